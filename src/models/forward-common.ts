/**
 * The parts of `LanguageModel.forward` both architectures share: checking ids, targets, lengths and the cache
 * before any work (one clear error each), and the output end, which keeps only the last position when `lastOnly`
 * (so the head matmul runs on B rows instead of B*T) and computes the cross-entropy loss when targets are given.
 */
import * as F from '../ops/index.ts';
import { noGrad } from '../tensor/autograd.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { KVBuffers } from './kv-cache.ts';
import type { ForwardOptions, ForwardResult, ModelConfig } from './model.ts';

export interface ForwardPlan {
  /** Absolute position of the first of the T tokens (the cache length, or 0). */
  start: number;
  cache: KVBuffers | null;
  lastOnly: boolean;
  /** Dropout seed given by the caller, or null (the model's own counter). */
  dropoutSeed: number | null;
  /** Segment id per token (B*T) for packed rows, or null. */
  segments: Int32Array | null;
}

/** Position of each token (B*T): start + t, or, with segments, its offset from the first token of its segment. */
export function tokenPositions(plan: ForwardPlan, B: number, T: number): Int32Array {
  const pos = new Int32Array(B * T);
  const seg = plan.segments;
  for (let i = 0; i < B * T; i++) {
    const t = i % T;
    pos[i] = !seg ? plan.start + t : t > 0 && seg[i - 1] === seg[i] ? pos[i - 1]! + 1 : 0;
  }
  return pos;
}

/** Runs a planned forward: with a KV cache, without autograd and advancing the cache by T afterwards. */
export function runPlanned(plan: ForwardPlan, T: number, run: () => ForwardResult): ForwardResult {
  if (!plan.cache) return run();
  const out = noGrad(run);
  plan.cache.advance(T);
  return out;
}

export function planForward(
  name: string,
  cfg: ModelConfig,
  ids: Int32Array,
  B: number,
  T: number,
  targets: Int32Array | null,
  opts: ForwardOptions,
): ForwardPlan {
  if (!(Number.isInteger(B) && B > 0 && Number.isInteger(T) && T > 0))
    throw new RangeError(`${name}: B and T must be positive integers, received B=${B}, T=${T}`);
  if (ids.length !== B * T) throw new RangeError(`${name}: expected B*T = ${B * T} token ids, received ${ids.length}`);
  if (targets && targets.length !== B * T)
    throw new RangeError(`${name}: expected B*T = ${B * T} targets, received ${targets.length}`);
  const lastOnly = opts.lastOnly ?? false;
  if (lastOnly && targets)
    throw new RangeError(`${name}: lastOnly computes one position per row, so it cannot take targets for the loss`);
  const cache = opts.cache ? KVBuffers.check(opts.cache, cfg, B, T) : null;
  const start = cache ? cache.length : 0;
  if (start + T > cfg.blockSize) {
    throw new RangeError(
      `${name}: positions ${start}..${start + T - 1} exceed the context length blockSize ${cfg.blockSize}`,
    );
  }
  const segments = opts.segments ?? null;
  if (segments && segments.length !== B * T)
    throw new RangeError(`${name}: expected B*T = ${B * T} segment ids, received ${segments.length}`);
  if (segments && cache) throw new RangeError(`${name}: segments (packed rows) cannot be combined with a KV cache`);
  return { start, cache, lastOnly, dropoutSeed: opts.dropoutSeed ?? null, segments };
}

/**
 * Final hidden states x (B, T, C) -> logits (B, T or 1, V) through `norm` and `head`, plus the loss. When targets
 * are given and `headWeight` is the (V, C) matrix `head` multiplies by (no bias, no adapter), the loss runs fused
 * (F.linearCrossEntropy: never more than one chunk of logits in memory) and `logits` is computed only if read.
 */
export function lmOutput(
  x: Tensor,
  norm: (x: Tensor) => Tensor,
  head: (x: Tensor) => Tensor,
  targets: Int32Array | null,
  lastOnly: boolean,
  headWeight: Tensor | null = null,
): ForwardResult {
  const T = x.shape[1]!;
  if (lastOnly && T > 1) x = F.slice(x, 1, T - 1, T); // (B, 1, C)
  const h = norm(x);
  if (targets && headWeight) {
    const loss = F.linearCrossEntropy(h, headWeight, targets);
    let logits: Tensor | null = null;
    return {
      get logits() {
        logits ??= head(h);
        return logits;
      },
      loss,
    };
  }
  const logits = head(h);
  const loss = targets ? F.crossEntropy(logits, targets) : null;
  return { logits, loss };
}
