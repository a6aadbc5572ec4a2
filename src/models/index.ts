/**
 * `llmforge/models`: the GPT and Llama models, building them from presets or configs, saving and loading model
 * directories, text generation and next-token predictions, parameter/FLOP/cost estimates, and moving models in and
 * out of other ecosystems (Hugging Face directories and hub, GGUF, llm.c). A public entry point of the package
 * only: code inside src imports the module it needs, never this index.
 */
export { GPT } from './gpt.ts';
export { Llama } from './llama.ts';
export {
  LanguageModel,
  type Arch,
  type ModelConfig,
  type KVCache,
  type ForwardOptions,
  type ForwardResult,
} from './model.ts';
export { createModel } from './create.ts';
export { PRESETS, resolveModelConfig, type Preset } from './presets.ts';
export { checkModelConfig, completeModelConfig, parseConfigOverrides, ModelConfigError } from './config.ts';
export { saveModel, loadModel, readModelConfig } from './model-io.ts';
export {
  countParameters,
  flopsPerToken,
  trainingMemory,
  type ParamCounts,
  type FlopsPerToken,
  type MemoryEstimate,
} from './flops.ts';
export { estimateTraining, HARDWARE, type HardwareSpec, type Estimate, type EstimateInput } from './cost.ts';
export {
  generate,
  generateTokens,
  type GenerateOptions,
  type GenerateSummary,
  type StopReason,
} from '../generate/generate.ts';
export { predictNext, nextTokenProbs, type Prediction } from '../generate/predict.ts';
export { loadModelDir, type LoadedModel } from '../generate/model-dir.ts';
export type { SamplingOptions } from '../generate/sampling.ts';
export { loadHfModel, readHfConfig, hfWeightFiles, type LoadedHfModel } from './hf/load-hf.ts';
export { exportHfModel, hfTensors, type HfExportOptions } from './hf/export-hf.ts';
export { hfToModelConfig, modelConfigToHf, HfModelError, type HfConfigInfo } from './hf/hf-config.ts';
export { isHfModelDir } from './hf/detect.ts';
export { pullModel, type PullOptions, type PullResult } from '../hub/pull.ts';
export { resolveHubModelSync } from '../hub/resolve.ts';
export { cacheRoot } from '../hub/cache.ts';
export {
  exportGguf,
  ggufTensors,
  ggufModelMetadata,
  ggufTokenizerMetadata,
  GgufExportError,
  type GgufExportOptions,
  type GgufExportType,
} from '../export/gguf/export-gguf.ts';
export { importGguf, ggufModelConfig, ggufTokenizer, type ImportedGguf } from '../export/gguf/import-gguf.ts';
export {
  readLlmcCheckpoint,
  writeLlmcCheckpoint,
  llmcIncompatibility,
  paddedVocab,
  type LlmcDtype,
} from '../export/llmc/llmc-checkpoint.ts';
export { exportLlmcShards, type LlmcExportSummary } from '../export/llmc/llmc-dataset.ts';
export { writeLlmcTokenizer } from '../export/llmc/llmc-tokenizer.ts';
