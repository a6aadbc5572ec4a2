/**
 * `llmforge/tensor`: tensors with reverse-mode autograd, tensor creation, seeded random numbers, the differentiable
 * op library (as the namespace `F`) and the compute backend (the native addon or the TypeScript reference). This
 * is a public entry point of the package only: code inside src imports the module it needs, never this index.
 */
export { Tensor, type GradNode } from './tensor.ts';
export { noGrad, isGradEnabled } from './autograd.ts';
export * from './creation.ts';
export { Rng, shuffled, shuffleInPlace } from './random.ts';
export * as F from '../ops/index.ts';
export { backend, setBackend, withBackend, withFloat64, nativeAvailable, cpuInfo } from '../backend/index.ts';
