/**
 * What the fused decoders (gpt-decode.ts, llama-decode.ts) check and prepare before they exist: the native decode
 * kernels (the native backend active, not float64), a model they may run (not in training mode with dropout,
 * every projection a plain `Linear` so no LoRA wrapper, every norm of the expected class, float32 parameters),
 * bf16 only where AVX-512 kernels run it (elsewhere its scalar reference would be slower than fp32, so there is
 * no bf16 decoder and generation says it runs fp32), and the weights as the kernels take them: matrices in the
 * decoder's precision (bf16 copies converted once, here) and vectors as the parameters' own float32 storage.
 */
import { cpuInfo, decodeKernels, type DecodeKernels, type DecodeWeightArray } from '../backend/index.ts';
import { Linear } from '../nn/layers.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { DecodePrecision } from './decoder.ts';
import type { LanguageModel } from './model.ts';

export interface DecodeWeights {
  kernels: DecodeKernels;
  /** An (N, K) weight matrix in the decoder's precision: the fp32 storage itself, or a bf16 copy. */
  matrix(t: Tensor): DecodeWeightArray;
  /** A norm weight or bias as its float32 storage; null (no bias) stays null. */
  vector(t: Tensor): Float32Array;
  vector(t: Tensor | null): Float32Array | null;
}

/**
 * The kernels and weight converters for a fused decoder of `model`, or null when the fast path does not apply;
 * `linears` are the modules that must be plain `Linear`s, `norms` those that must be instances of `Norm`.
 */
export function prepareDecode(
  model: LanguageModel,
  precision: DecodePrecision,
  linears: readonly unknown[],
  norms: readonly unknown[],
  Norm: abstract new (...args: never[]) => unknown,
): DecodeWeights | null {
  const kernels = decodeKernels();
  if (!kernels || (model.training && model.config.dropout > 0)) return null;
  if (precision === 'bf16' && cpuInfo()?.isa !== 'avx512') return null;
  if (!norms.every((m) => m instanceof Norm) || !linears.every((m) => m instanceof Linear)) return null;
  if (!model.parameters().every((p) => p.data instanceof Float32Array)) return null;
  const matrix = (t: Tensor): DecodeWeightArray => {
    const data = t.data as Float32Array;
    if (precision === 'fp32') return data;
    const out = new Uint16Array(data.length);
    kernels.toBf16(data, out);
    return out;
  };
  const vector = ((t: Tensor | null) => (t ? (t.data as Float32Array) : null)) as DecodeWeights['vector'];
  return { kernels, matrix, vector };
}
