/**
 * llmforge's public library API: tensors and autograd, the op library, optimizers and backend selection.
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
