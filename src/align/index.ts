/**
 * `llmforge/align`: preference alignment: reward models (Bradley-Terry), direct preference optimization (DPO)
 * and PPO with a value head, their losses, batching, rollouts and training loops. A public entry point of the
 * package only: code inside src imports the module it needs, never this index.
 */
export {
  RewardModel,
  encodeForReward,
  rewardsOf,
  saveRewardModel,
  loadRewardModel,
  RewardModelError,
  REWARD_HEAD_FILE,
  type RewardInfo,
  type LoadedRewardModel,
} from './reward-model.ts';
export { bradleyTerryLoss } from './reward-loss.ts';
export {
  trainRewardModel,
  scorePairs,
  splitPairs,
  type RewardTrainOptions,
  type RewardTrainResult,
  type PairMetrics,
} from './reward-train.ts';
export { sequenceLogprobs, referenceLogprobs } from './sequence-logprobs.ts';
export {
  dpoLoss,
  checkDpoOptions,
  rewardStats,
  type DpoLossType,
  type DpoLossOptions,
  type DpoLossResult,
  type RewardStats,
} from './dpo-loss.ts';
export { tokenizeDpoPair, dpoPairBatch, type DpoExample } from './dpo-batch.ts';
export {
  trainDpo,
  frozenCopy,
  DEFAULT_DPO_CONFIG,
  type DpoConfig,
  type DpoRun,
  type DpoEval,
  type DpoStepInfo,
  type DpoResult,
} from './dpo-train.ts';
export { gae, whiten, klPenalizedRewards, AdaptiveKlController } from './ppo-math.ts';
export { ppoLoss, type PpoLossOptions, type PpoLossTargets, type PpoLossResult } from './ppo-loss.ts';
export {
  ValueHead,
  PolicyWithValue,
  policyForward,
  rolloutBatch,
  scoreRollouts,
  type RolloutBatch,
} from './ppo-policy.ts';
export {
  sampleRollouts,
  rewardModelScorer,
  loadPrompts,
  evaluatePrompts,
  type Rollout,
  type RewardScorer,
} from './ppo-rollout.ts';
export {
  trainPpo,
  DEFAULT_PPO_CONFIG,
  type PpoConfig,
  type PpoRun,
  type PpoIterationInfo,
  type PpoResult,
} from './ppo-train.ts';
export { runRewardTraining } from './reward-run.ts';
export {
  resolveRewardOptions,
  DEFAULT_REWARD_OPTIONS,
  type RewardOptions,
  type RewardOptionsInput,
} from './reward-options.ts';
export { runDpo } from './dpo-run.ts';
export { resolveDpoOptions, DEFAULT_DPO_OPTIONS, type DpoOptions, type DpoOptionsInput } from './dpo-options.ts';
export { runPpo, type PpoHeldOut } from './ppo-run.ts';
export { resolvePpoOptions, DEFAULT_PPO_OPTIONS, type PpoOptions, type PpoOptionsInput } from './ppo-options.ts';
export type { RunOutput } from './run-output.ts';
