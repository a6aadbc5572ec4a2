/**
 * The fast decoding contract: a `TokenDecoder` runs one token of batch-1 generation through a model with a KV
 * cache and returns the next position's logits, without building tensors or autograd records. Models that have
 * one return it from `LanguageModel.decoder(precision)` (null when the model, its current modules or the backend
 * do not allow it; generation then runs the ordinary forward). Precision 'fp32' reproduces the ordinary forward;
 * 'bf16' streams the matrix weights as bfloat16 copies (weight-only rounding, fp32 activations and sums): about
 * half the bytes per token, and greedy choices may differ from fp32 where two logits nearly tie.
 */
import type { KVCache } from './model.ts';
import { UserError } from '../util/user-error.ts';

export type DecodePrecision = 'fp32' | 'bf16';
export const DECODE_PRECISIONS: readonly DecodePrecision[] = ['fp32', 'bf16'];

export interface TokenDecoder {
  /** The precision this decoder runs in. */
  readonly precision: DecodePrecision;
  /**
   * Logits (V) of the position after token `id`, which sits at position cache.length (batch 1): its keys and
   * values are appended and the cache advanced by one. The returned array is overwritten by the next step.
   * Valid while the model's weights are unchanged (a bf16 decoder holds converted copies).
   */
  step(id: number, cache: KVCache): Float32Array;
}

/** Checks a precision name (from an option, the CLI or LLMFORGE_DECODE); `source` names where it came from. */
export function parseDecodePrecision(value: string, source: string): DecodePrecision {
  if ((DECODE_PRECISIONS as readonly string[]).includes(value)) return value as DecodePrecision;
  throw new UserError(`${source}: expected one of ${DECODE_PRECISIONS.join(', ')}, received '${value}'`);
}

/** The default decode precision: LLMFORGE_DECODE when set, else 'fp32'. */
export function defaultDecodePrecision(): DecodePrecision {
  const v = process.env.LLMFORGE_DECODE;
  return v === undefined || v === '' ? 'fp32' : parseDecodePrecision(v, 'LLMFORGE_DECODE');
}
