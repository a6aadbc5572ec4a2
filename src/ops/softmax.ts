/**
 * softmax and log_softmax over the last dimension, and cross-entropy fused with log-softmax (ignore index for
 * masked labels, label smoothing, mean/sum/none reductions). The fused loss never materializes probabilities
 * in the forward; it saves one logsumexp per row for the backward.
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { formatShape, normDim } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkIds, empty, emptyUninit } from './util.ts';

function lastDimOnly(op: string, x: Tensor, dim: number): void {
  if (x.ndim === 0) throw new RangeError(`${op}: needs at least one dimension`);
  if (normDim(op, dim, x.ndim) !== x.ndim - 1) {
    throw new RangeError(`${op}: only the last dimension is supported (dim=-1); transpose first (received dim=${dim})`);
  }
}

export function softmax(x: Tensor, dim = -1): Tensor {
  lastDimOnly('softmax', x, dim);
  const C = x.shape[x.ndim - 1]!;
  const N = x.size / Math.max(C, 1);
  const out = empty(x.shape);
  backend().softmax(x.data, out.data, N, C);
  return record(out, 'softmax', [x], (g) => {
    const dx = empty(x.shape);
    backend().softmaxBackward(out.data, g.data, dx.data, N, C);
    return [dx];
  });
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  lastDimOnly('logSoftmax', x, dim);
  const C = x.shape[x.ndim - 1]!;
  const N = x.size / Math.max(C, 1);
  const out = empty(x.shape);
  backend().logSoftmax(x.data, out.data, N, C);
  return record(out, 'logSoftmax', [x], (g) => {
    const dx = empty(x.shape);
    backend().logSoftmaxBackward(out.data, g.data, dx.data, N, C);
    return [dx];
  });
}

export interface CrossEntropyOptions {
  /** Target value whose rows are skipped (default -100, as in PyTorch). */
  ignoreIndex?: number;
  /** Label smoothing in [0, 1) (default 0). */
  labelSmoothing?: number;
  /** 'mean' over non-ignored rows (default), 'sum', or 'none' (one loss per row). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy between logits (..., V) and integer targets (one per row of the leading dims).
 */
export function crossEntropy(
  logits: Tensor,
  targets: Int32Array | readonly number[],
  opts: CrossEntropyOptions = {},
): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const smoothing = opts.labelSmoothing ?? 0;
  const reduction = opts.reduction ?? 'mean';
  if (logits.ndim < 1) throw new RangeError('crossEntropy: logits need a class dimension');
  if (!(smoothing >= 0 && smoothing < 1))
    throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1), received ${smoothing}`);
  const V = logits.shape[logits.ndim - 1]!;
  const N = logits.size / Math.max(V, 1);
  if (targets.length !== N) {
    throw new RangeError(
      `crossEntropy: logits ${formatShape(logits.shape)} have ${N} rows but ${targets.length} targets were given`,
    );
  }
  const t = checkIds('crossEntropy', targets, V, ignoreIndex);
  const losses = empty(logits.shape.slice(0, -1));
  const lse = empty([N]);
  backend().crossEntropy(logits.data, t, losses.data, lse.data, N, V, ignoreIndex, smoothing);
  let count = 0;
  for (let i = 0; i < N; i++) if (t[i] !== ignoreIndex) count++;

  const backwardWith = (dlosses: Tensor): Tensor => {
    const dx = emptyUninit(logits.shape);
    backend().crossEntropyBackward(logits.data, lse.data, t, dlosses.data, dx.data, N, V, ignoreIndex, smoothing);
    return dx;
  };
  if (reduction === 'none') {
    return record(losses, 'crossEntropy', [logits], (g) => [backwardWith(g)]);
  }
  let total = 0;
  for (let i = 0; i < N; i++) total += losses.data[i]!;
  const scale = reduction === 'mean' ? (count > 0 ? 1 / count : 0) : 1;
  const out = empty([]);
  out.data[0] = reduction === 'mean' ? (count > 0 ? total * scale : Number.NaN) : total;
  return record(out, 'crossEntropy', [logits], (g) => {
    const d = emptyUninit([N]);
    d.data.fill(g.data[0]! * scale);
    return [backwardWith(d)];
  });
}
