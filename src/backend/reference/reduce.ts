/**
 * Reference reductions over the middle axis of an (outer, dim, inner) view: sum and max-with-argmax
 * (Backend.sumAxis, Backend.maxAxis), plus the float64 sum of squares used for global grad-norm clipping.
 * Sums accumulate in float64 scratch rows of length `inner`, walking x in memory order.
 */
import type { Backend } from '../backend.ts';

export const sumAxis: Backend['sumAxis'] = (x, out, outer, dim, inner) => {
  const acc = new Float64Array(inner); // (inner)
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let d = 0; d < dim; d++) {
      const row = (o * dim + d) * inner; // x[o, d, :]
      for (let i = 0; i < inner; i++) acc[i] += x[row + i];
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i];
  }
};

export const maxAxis: Backend['maxAxis'] = (x, out, argmax, outer, dim, inner) => {
  if (dim === 0 && outer * inner > 0)
    throw new RangeError('maxAxis: cannot reduce an axis of size 0 (the max of nothing is undefined)');
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * dim * inner + i; // x[o, 0, i]; x[o, d, i] = x[base + d * inner]
      let best = x[base];
      let bestD = 0;
      for (let d = 1; d < dim; d++) {
        const v = x[base + d * inner];
        // Strictly greater keeps the first maximum; the first NaN wins and propagates, as in PyTorch.
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          bestD = d;
        }
      }
      out[o * inner + i] = best;
      argmax[o * inner + i] = bestD;
    }
  }
};

export const sumSquares: Backend['sumSquares'] = (x, n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
};
