/**
 * `llmforge/eval`: measuring models: perplexity, ROUGE-L and exact match, multiple-choice scoring with Wilson
 * intervals, the toy-world facts table, run checkpoints, and judging responses with a reward model (win rates). A
 * public entry point of the package only: code inside src imports the module it needs, never this index.
 */
export {
  perplexity,
  textPerplexity,
  pplWindows,
  PerplexityError,
  type PerplexityOptions,
  type PerplexityResult,
  type TextPerplexityResult,
  type PplWindow,
} from './perplexity.ts';
export { readEvalText, TextInputError, type EvalText } from './text-input.ts';
export { wilsonInterval, type Interval } from './wilson.ts';
export { rougeL, rougeTokens, lcsLength, exactMatch, type RougeL } from './rouge.ts';
export { parseMcItem, loadMcItems, McItemError, type McItem } from './mc-items.ts';
export {
  scoreMultipleChoice,
  McScoreError,
  type McOptions,
  type McPrediction,
  type McResult,
} from './multiple-choice.ts';
export { listCheckpoints, CheckpointListError, type RunCheckpoint } from './checkpoints.ts';
export { formatFactsTable, type FactsRow, type FactTally } from './facts-table.ts';
export {
  loadResponses,
  winRate,
  pairByPrompt,
  referenceScores,
  rewardRecord,
  JudgeInputError,
  type JudgedResponse,
  type WinRate,
  type ReferenceScores,
} from './judge.ts';
