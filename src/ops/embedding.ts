/**
 * Index-based ops: `embedding` (row gather from a (V, C) table; scatter-add backward) and `gatherLast`
 * (one value per row along the last dim: per-token log-probabilities for DPO/PPO, class logits).
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { formatShape, type Shape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkIds, empty, emptyUninit } from './util.ts';

/** weight (V, C) gathered at ids -> (...idsShape, C). idsShape defaults to [ids.length]. */
export function embedding(weight: Tensor, ids: Int32Array | readonly number[], idsShape?: Shape): Tensor {
  if (weight.ndim !== 2)
    throw new RangeError(`embedding: weight must be (V, C), received ${formatShape(weight.shape)}`);
  const [V, C] = weight.shape as [number, number];
  const idx = checkIds('embedding', ids, V);
  const shape = idsShape ?? [idx.length];
  if (shape.reduce((a, b) => a * b, 1) !== idx.length) {
    throw new RangeError(`embedding: idsShape ${formatShape(shape)} does not match ${idx.length} ids`);
  }
  const out = emptyUninit([...shape, C]);
  backend().embedding(weight.data, idx, out.data, idx.length, C);
  return record(out, 'embedding', [weight], (g) => {
    const dw = empty(weight.shape);
    backend().embeddingBackward(g.data, idx, dw.data, idx.length, C);
    return [dw];
  });
}

/** out[...] = x[..., idx[...]]: one element per row of the last dim. */
export function gatherLast(x: Tensor, idx: Int32Array | readonly number[]): Tensor {
  const V = x.shape[x.ndim - 1]!;
  const N = x.size / Math.max(V, 1);
  if (idx.length !== N)
    throw new RangeError(`gatherLast: x ${formatShape(x.shape)} has ${N} rows but ${idx.length} indices were given`);
  const ids = checkIds('gatherLast', idx, V);
  const out = empty(x.shape.slice(0, -1));
  backend().gatherLast(x.data, ids, out.data, N, V);
  return record(out, 'gatherLast', [x], (g) => {
    const dx = empty(x.shape);
    backend().gatherLastBackward(g.data, ids, dx.data, N, V);
    return [dx];
  });
}
