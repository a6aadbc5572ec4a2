/**
 * Dropout with a counter-based mask: element i of a call with seed s is kept iff hash32(s, i) clears the
 * threshold, so the mask is reproducible, identical on every backend, and the backward recomputes it instead of
 * storing it.
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { emptyUninit } from './util.ts';

/** Zeroes each element with probability p and scales the rest by 1/(1-p). p = 0 returns x unchanged. */
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), received ${p}`);
  if (p === 0) return x;
  const s = seed >>> 0;
  const out = emptyUninit(x.shape);
  backend().dropout(x.data, out.data, x.size, p, s);
  return record(out, 'dropout', [x], (g) => {
    const dx = emptyUninit(x.shape);
    backend().dropout(g.data, dx.data, x.size, p, s);
    return [dx];
  });
}
