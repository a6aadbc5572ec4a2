/**
 * `llmforge`, the package's main entry: the high-level API for the whole life of a model (tokenize, prepare data,
 * build or load a model, pretrain, fine-tune, align, evaluate, generate, serve, run recipes). Everything else is in
 * the subpath entries, one per area: llmforge/tensor, /nn, /tokenizer, /chat, /models, /io, /data, /train, /finetune,
 * /align, /eval, /recipes and /serve (package.json `exports`).
 */
export {
  Tensor,
  tensor,
  zeros,
  ones,
  randn,
  noGrad,
  F,
  Rng,
  backend,
  setBackend,
  nativeAvailable,
  cpuInfo,
} from './tensor/index.ts';
export { Module, AdamW } from './nn/index.ts';
export {
  Tokenizer,
  CharTokenizer,
  loadTokenizer,
  saveTokenizer,
  trainBpe,
  loadTextTokenizer,
  type TextTokenizer,
  type TrainBpeOptions,
} from './tokenizer/index.ts';
export {
  LanguageModel,
  createModel,
  PRESETS,
  saveModel,
  loadModel,
  loadModelDir,
  generate,
  generateTokens,
  predictNext,
  loadHfModel,
  exportHfModel,
  pullModel,
  exportGguf,
  importGguf,
  estimateTraining,
  type ModelConfig,
  type Preset,
  type LoadedModel,
  type GenerateOptions,
  type Prediction,
} from './models/index.ts';
export { prepareData, TokenDataset, type PrepareOptions, type PrepareReport } from './data/index.ts';
export {
  train,
  runPretraining,
  DEFAULT_TRAIN_CONFIG,
  type PretrainOptions,
  type TrainConfig,
  type TrainOptions,
  type TrainResult,
} from './train/index.ts';
export {
  attachLora,
  trainSft,
  trainClassifier,
  adaptDomain,
  runClassification,
  runSft,
  runDomainAdaptation,
  type ClassifyOptions,
  type SftOptions,
  type DomainRunOptions,
  DEFAULT_SFT_CONFIG,
  type SftConfig,
} from './finetune/index.ts';
export {
  trainRewardModel,
  trainDpo,
  trainPpo,
  runRewardTraining,
  runDpo,
  runPpo,
  DEFAULT_DPO_CONFIG,
  DEFAULT_PPO_CONFIG,
  type DpoConfig,
  type PpoConfig,
  type RewardOptions,
  type DpoOptions,
  type PpoOptions,
} from './align/index.ts';
export { ChatSession, resolveTemplate, type PromptTemplate } from './chat/index.ts';
export { perplexity, textPerplexity, scoreMultipleChoice, type PerplexityResult, type McResult } from './eval/index.ts';
export { loadRecipe, runRecipe, defineStage, registerStageType, type Recipe } from './recipes/index.ts';
export { createApiServer, type ServeOptions } from './serve/index.ts';
export { UserError, isUserError } from './util/user-error.ts';
