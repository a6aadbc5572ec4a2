/**
 * Reference dropout (Backend.dropout) with the counter-based mask shared with the native backend: element i is
 * kept iff hash32(seed, i) >= dropoutThreshold(p), and kept elements are scaled by 1 / (1 - p). The mask is a
 * pure function of (seed, i), so the backward is the same call on dy and nothing is stored. p = 0 copies;
 * p = 1 drops everything.
 */
import type { Backend } from '../backend.ts';
import { dropoutThreshold, hash32 } from '../hash.ts';

export const dropout: Backend['dropout'] = (x, out, n, p, seed) => {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: probability p = ${p} must be in [0, 1]`);
  if (p === 0) {
    if (out !== x) out.set(x.subarray(0, n));
    return;
  }
  if (p === 1) {
    out.fill(0, 0, n);
    return;
  }
  const threshold = dropoutThreshold(p);
  const scale = 1 / (1 - p);
  for (let i = 0; i < n; i++) out[i] = hash32(seed, i) >= threshold ? x[i] * scale : 0;
};
