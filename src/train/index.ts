/**
 * `llmforge/train`: pretraining: the training loop and its config, mixed precision, the learning-rate schedule,
 * evaluation, checkpoints and opening prepared training data. A public entry point of the package only: code
 * inside src imports the module it needs, never this index.
 */
export {
  train,
  type TrainOptions,
  type TrainHooks,
  type TrainResult,
  type StepInfo,
  type EvalInfo,
} from './trainer.ts';
export { DEFAULT_TRAIN_CONFIG, applyTrainOverrides, validateTrainConfig, type TrainConfig } from './config.ts';
export {
  detectBf16,
  resolvePrecision,
  type PrecisionSetting,
  type ResolvedPrecision,
  type Bf16Capability,
} from './precision.ts';
export { lrAt, defaultMinLr, type LrSchedule } from './schedule.ts';
export { evaluate, type EvalResult, type TokenSource } from './evaluate.ts';
export { saveCheckpoint, loadCheckpoint, restoreOptimizer, type RunState } from './checkpoint.ts';
export { openTrainingData, type TrainingData } from './open-data.ts';
export {
  runPretraining,
  resolvePretrainOptions,
  DEFAULT_PRETRAIN_OPTIONS,
  type PretrainOptions,
  type ResolvedPretraining,
} from './pretrain-run.ts';
export { OptionCheck, OptionError } from './option-check.ts';
