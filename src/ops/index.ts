/** The op library: every differentiable function over tensors, re-exported from its own file. */
export * from './elementwise.ts';
export * from './view.ts';
export * from './reduce.ts';
export * from './matmul.ts';
export * from './matmul-precision.ts';
export * from './softmax.ts';
export * from './linear-cross-entropy.ts';
export * from './embedding.ts';
export * from './norm.ts';
export * from './rope.ts';
export * from './attention.ts';
export * from './dropout.ts';
export * from './where.ts';
