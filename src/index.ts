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
export { Module } from './nn/module.ts';
export { Linear, Embedding, LayerNorm, RMSNorm, Dropout } from './nn/layers.ts';
export { readSafetensors, parseSafetensors, serializeSafetensors } from './io/safetensors.ts';
