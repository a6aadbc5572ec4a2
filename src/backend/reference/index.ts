/**
 * The `reference` backend: every Backend kernel in plain, readable TypeScript, generic over Float32Array and
 * Float64Array (float64 mode runs gradient checks on it) and accumulating sums in float64. It is the
 * specification the native kernels are tested against, and the fallback when the addon is missing. Kernels
 * live in one small file per family; this file only assembles them.
 */
import type { Backend } from '../backend.ts';
import { attention, attentionBackward } from './attention.ts';
import { attentionQKV, attentionQKVBackward } from './attention-qkv.ts';
import { crossEntropy, crossEntropyBackward } from './cross-entropy.ts';
import { dropout } from './dropout.ts';
import { affine, maskedFill, powScalar, where } from './elementwise.ts';
import { embedding, embeddingBackward, gatherLast, gatherLastBackward } from './embedding.ts';
import { gemm, gemmBf16 } from './gemm.ts';
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from './norm.ts';
import { adamw, sgd } from './optim.ts';
import { maxAxis, sumAxis, sumSquares } from './reduce.ts';
import { rope } from './rope.ts';
import { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from './softmax.ts';
import { binary, copyStrided } from './strided.ts';
import { unary, unaryBackward } from './unary.ts';

export const referenceBackend: Backend = {
  name: 'reference',
  numThreads: () => 1,
  setNumThreads: () => {},
  gemm,
  gemmBf16,
  unary,
  unaryBackward,
  affine,
  powScalar,
  binary,
  copyStrided,
  where,
  maskedFill,
  sumAxis,
  maxAxis,
  sumSquares,
  softmax,
  softmaxBackward,
  logSoftmax,
  logSoftmaxBackward,
  crossEntropy,
  crossEntropyBackward,
  embedding,
  embeddingBackward,
  gatherLast,
  gatherLastBackward,
  layerNorm,
  layerNormBackward,
  rmsNorm,
  rmsNormBackward,
  rope,
  attention,
  attentionBackward,
  attentionQKV,
  attentionQKVBackward,
  dropout,
  adamw,
  sgd,
};
