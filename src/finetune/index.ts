/**
 * `llmforge/finetune`: adapting a pretrained model: LoRA (attach, save, load, merge), sequence classification,
 * supervised fine-tuning on instructions and chats (tokenization, batching, training, evaluation; the chat templates
 * and records are `llmforge/chat`) and continued pretraining on a domain. A public entry point of the package only: code inside src
 * imports the module it needs, never this index.
 */
export {
  saveLoraAdapter,
  loadLoraAdapter,
  readLoraWeights,
  readLoraConfig,
  peftModuleName,
  type PeftLoraConfig,
} from './lora-io.ts';
export {
  attachLora,
  parseLoraSettings,
  defaultLoraTargets,
  mergedLoraCopy,
  formatTrainable,
  restoreLoraAdapter,
  DEFAULT_LORA,
  type LoraSettings,
  type AttachedLora,
} from './lora-finetune.ts';
export {
  parseClassifyData,
  readClassifyData,
  labelSet,
  stratifiedSplit,
  balance,
  classWeights,
  encodeExample,
  padBatch,
  ClassifyDataError,
  type LabeledText,
  type Balance,
  type Split,
  type EncodedExample,
} from './classify-data.ts';
export {
  SequenceClassifier,
  saveClassifier,
  saveClassifierHead,
  loadClassifier,
  ClassifierError,
  type ClassifierInfo,
  type Pooling,
  type LoadedClassifier,
} from './classifier.ts';
export {
  trainClassifier,
  setTrainable,
  predictClasses,
  type ClassifyTrainOptions,
  type ClassifyTrainResult,
  type TrainMode,
} from './classify-train.ts';
export {
  classificationReport,
  reportFields,
  formatClassificationReport,
  type ClassificationReport,
  type ClassMetrics,
} from './metrics.ts';
export { tokenizeRecord, formatPreview, type SftExample, type TokenizeOptions } from './sft-tokenize.ts';
export { padSftBatch, packRows, stackRows, type SftBatch } from './sft-batch.ts';
export {
  trainSft,
  tokenizeSftRecords,
  DEFAULT_SFT_CONFIG,
  type SftConfig,
  type SftRun,
  type SftStepInfo,
} from './sft-train.ts';
export { sftValidationLoss, respondAndScore, type ResponseRow, type ResponseScores } from './sft-eval.ts';
export {
  adaptDomain,
  splitDomainText,
  DomainError,
  DOMAIN_REPORT_FILE,
  type DomainOptions,
  type DomainResult,
} from './domain.ts';
export { formatDomainReport, type DomainReport, type BeforeAfter, type PplStats } from './domain-report.ts';
export {
  runClassification,
  resolveClassifyOptions,
  DEFAULT_CLASSIFY_OPTIONS,
  type ClassifyOptions,
} from './classify-run.ts';
export { runSft, resolveSftOptions, DEFAULT_SFT_OPTIONS, type SftOptions, type SftRunResult } from './sft-run.ts';
export {
  runDomainAdaptation,
  resolveDomainOptions,
  DEFAULT_DOMAIN_OPTIONS,
  type DomainRunOptions,
} from './domain-run.ts';
export type { LoraOptions } from './lora-options.ts';
