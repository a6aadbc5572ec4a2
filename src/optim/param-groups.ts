/**
 * Parameter groups for optimizers: each group is a list of tensors with its own options (typically a group with
 * weight decay for matrices and one without for biases and norm gains, see decayGroups), plus the global
 * gradient-norm helpers used for clipping.
 */
import { backend } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';

export interface ParamGroup<O> {
  params: Tensor[];
  /** Options that override the optimizer's defaults for this group. */
  options?: Partial<O>;
}

export function normalizeGroups<O>(op: string, params: Tensor[] | ParamGroup<O>[]): ParamGroup<O>[] {
  if (params.length === 0) throw new RangeError(`${op}: no parameters to optimize`);
  const groups = 'params' in (params[0] as object) ? (params as ParamGroup<O>[]) : [{ params: params as Tensor[] }];
  const seen = new Set<Tensor>();
  for (const g of groups) {
    for (const p of g.params) {
      if (seen.has(p)) throw new RangeError(`${op}: parameter ${p.name ?? ''} appears in more than one group`);
      seen.add(p);
    }
  }
  return groups;
}

/**
 * The usual weight-decay split for AdamW: matrices (ndim >= 2: linear weights and embedding tables) in a group that
 * decays at the optimizer's weightDecay, vectors (biases, LayerNorm/RMSNorm gains) in one with weightDecay 0. An
 * empty group is left out; order within each group follows `params`.
 */
export function decayGroups(params: readonly Tensor[]): ParamGroup<{ weightDecay: number }>[] {
  return [
    { params: params.filter((p) => p.ndim >= 2) },
    { params: params.filter((p) => p.ndim < 2), options: { weightDecay: 0 } },
  ].filter((g) => g.params.length > 0);
}

/** The global L2 norm of all gradients (parameters without a gradient count as zero). */
export function gradNorm(params: Iterable<Tensor>): number {
  let sq = 0;
  for (const p of params) if (p.grad) sq += backend().sumSquares(p.grad.data, p.grad.size);
  return Math.sqrt(sq);
}

/**
 * The factor that clips the global gradient norm to maxNorm (1 when already within it), and the norm itself.
 * Pass the factor to an optimizer's step(gradScale) to clip without an extra pass over the gradients.
 */
export function clipScale(params: Iterable<Tensor>, maxNorm: number): { norm: number; scale: number } {
  const norm = gradNorm(params);
  return { norm, scale: norm > maxNorm ? maxNorm / (norm + 1e-6) : 1 };
}

/** Scales gradients in place so their global norm is at most maxNorm (PyTorch's clip_grad_norm_); returns the norm. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const { norm, scale } = clipScale(params, maxNorm);
  if (scale !== 1)
    for (const p of params) if (p.grad) backend().affine(p.grad.data, p.grad.data, p.grad.size, scale, 0);
  return norm;
}
