/**
 * `llmforge/nn`: building blocks for training networks: the Module base class, layers, LoRA adapters, and the
 * optimizers with parameter groups and gradient clipping. A public entry point of the package only: code inside
 * src imports the module it needs, never this index.
 */
export { Module } from './module.ts';
export { Linear, Embedding, LayerNorm, RMSNorm, Dropout } from './layers.ts';
export {
  LoraLinear,
  applyLora,
  loraLayers,
  mergeLora,
  unmergeLora,
  withLoraDisabled,
  seedLoraDropout,
  trainableParameters,
  matchesTarget,
  type LoraOptions,
  type LoraSummary,
} from './lora.ts';
export { AdamW, type AdamWOptions } from '../optim/adamw.ts';
export { SGD, type SGDOptions } from '../optim/sgd.ts';
export { Optimizer } from '../optim/optimizer.ts';
export { clipGradNorm, clipScale, decayGroups, gradNorm, type ParamGroup } from '../optim/param-groups.ts';
