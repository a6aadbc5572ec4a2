/**
 * llmforge's public library API: tensors and autograd, the op library, optimizers, backend selection, layers and
 * models, safetensors, and tokenizers.
 */
export { Tensor, type GradNode } from './tensor/tensor.ts';
export { noGrad, isGradEnabled } from './tensor/autograd.ts';
export * from './tensor/creation.ts';
export { Rng } from './tensor/random.ts';
export * as F from './ops/index.ts';
export { AdamW, type AdamWOptions } from './optim/adamw.ts';
export { SGD, type SGDOptions } from './optim/sgd.ts';
export { Optimizer } from './optim/optimizer.ts';
export { clipGradNorm, clipScale, gradNorm, type ParamGroup } from './optim/param-groups.ts';
export { backend, setBackend, withBackend, withFloat64, nativeAvailable, cpuInfo } from './backend/index.ts';
export { Tokenizer, StreamDecoder, type EncodeOptions, type SpecialMode } from './tokenizer/tokenizer.ts';
export { CharTokenizer } from './tokenizer/char.ts';
export { loadTokenizer } from './tokenizer/load.ts';
export { loadGpt2Files } from './tokenizer/gpt2-files.ts';
export { loadTokenizerJson, parseTokenizerJson, saveTokenizer, toTokenizerJson } from './tokenizer/hf-json.ts';
export { trainBpe, trainBpeFromFiles, WordCounter, type TrainBpeOptions } from './tokenizer/train-bpe.ts';
export { GPT } from './models/gpt.ts';
export { Llama } from './models/llama.ts';
export { LanguageModel, type Arch, type ModelConfig, type KVCache, type ForwardOptions, type ForwardResult } from './models/model.ts';
export { createModel } from './models/create.ts';
export { PRESETS, resolveModelConfig, type Preset } from './models/presets.ts';
export { checkModelConfig, completeModelConfig, parseConfigOverrides, ModelConfigError } from './models/config.ts';
export { saveModel, loadModel, readModelConfig } from './models/model-io.ts';
export { generate, generateTokens, type GenerateOptions, type GenerateSummary, type StopReason } from './generate/generate.ts';
export { predictNext, nextTokenProbs, type Prediction } from './generate/predict.ts';
export { loadModelDir, type LoadedModel } from './generate/model-dir.ts';
export { type SamplingOptions } from './generate/sampling.ts';
export { Module } from './nn/module.ts';
export { Linear, Embedding, LayerNorm, RMSNorm, Dropout } from './nn/layers.ts';
export { readSafetensors, parseSafetensors, serializeSafetensors } from './io/safetensors.ts';
export { type TextTokenizer, eosId, loadTextTokenizer, saveTextTokenizer, encodeDocument } from './tokenizer/text-tokenizer.ts';
export { prepareData, type PrepareOptions, type PrepareReport } from './data/prepare.ts';
export { TokenDataset, type Batch } from './data/dataset.ts';
export { readMeta, type DatasetMeta, type SourceReport, type SplitMeta } from './data/meta.ts';
export { Cleaner, normalizeText, DEFAULT_CLEAN, type CleanOptions, type CleanReport } from './data/clean.ts';
export { scrubPii } from './data/pii.ts';
export { loadMixture, parseMixture, type MixtureConfig } from './data/mixture.ts';
export { formatReport as formatDataReport } from './data/report.ts';
export { train, type TrainOptions, type TrainHooks, type TrainResult, type StepInfo, type EvalInfo } from './train/trainer.ts';
export { DEFAULT_TRAIN_CONFIG, applyTrainOverrides, validateTrainConfig, type TrainConfig } from './train/config.ts';
export { lrAt, type LrSchedule } from './train/schedule.ts';
export { evaluate, type EvalResult, type TokenSource } from './train/evaluate.ts';
export { saveCheckpoint, loadCheckpoint, restoreOptimizer, type RunState } from './train/checkpoint.ts';
export { openTrainingData, type TrainingData } from './train/open-data.ts';
