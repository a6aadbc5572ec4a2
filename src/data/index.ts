/**
 * `llmforge/data`: preparing pretraining data (cleaning, PII scrubbing, deduplication, mixtures, token shards),
 * reading the prepared dataset, and the synthetic toy-world corpora, instructions and multiple-choice items. A
 * public entry point of the package only: code inside src imports the module it needs, never this index.
 */
export { prepareData, type PrepareOptions, type PrepareReport } from './prepare.ts';
export { TokenDataset, type Batch } from './dataset.ts';
export { readMeta, type DatasetMeta, type SourceReport, type SplitMeta } from './meta.ts';
export {
  Cleaner,
  normalizeText,
  resolveCleanOptions,
  DEFAULT_CLEAN,
  type CleanConfig,
  type CleanOptions,
  type CleanReport,
} from './clean.ts';
export { scrubPii } from './pii.ts';
export { loadMixture, parseMixture, type MixtureConfig } from './mixture.ts';
export { formatDataReport } from './report.ts';
export {
  generateToyWorld,
  writeToyWorld,
  toyWorldProbes,
  TOY_WORLD,
  CAPITALS,
  ANIMAL_SOUNDS,
  THING_COLOURS,
  SUN_FACTS,
  type ToyWorldOptions,
  type FactProbe,
} from './toy-world.ts';
export {
  toyInstructions,
  instructionRecord,
  writeInstructions,
  INSTRUCTION_FORMATS,
  type ToyInstruction,
  type InstructionFormat,
} from './toy-instructions.ts';
export { toyWorldMcItems, type ToyMcItem } from './toy-world-mc.ts';
