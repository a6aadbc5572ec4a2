/**
 * Reference softmax and log-softmax over the last axis of (N, C), with their backwards (Backend.softmax,
 * softmaxBackward, logSoftmax, logSoftmaxBackward). Every row subtracts its max before exponentiating and sums
 * in float64. A row that is entirely -Infinity gives NaN, as in PyTorch (masked attention rows are the
 * attention kernel's business, not this one's).
 */
import type { Backend, FloatArray } from '../backend.ts';

/** max over x[off .. off + C) */
function rowMax(x: FloatArray, off: number, C: number): number {
  let m = -Infinity;
  for (let j = 0; j < C; j++) if (x[off + j] > m || Number.isNaN(x[off + j])) m = x[off + j];
  return m;
}

/** log(sum_j exp(x[off + j])) over a row of C, computed as max + log(sum exp(x - max)) in float64. */
export function rowLogSumExp(x: FloatArray, off: number, C: number): number {
  const m = rowMax(x, off, C);
  if (m === Infinity) return Infinity;
  let sum = 0;
  for (let j = 0; j < C; j++) sum += Math.exp(x[off + j] - m);
  return m + Math.log(sum);
}

export const softmax: Backend['softmax'] = (x, out, N, C) => {
  const e = new Float64Array(C); // (C) exp(x - max) of one row, kept unrounded
  for (let r = 0; r < N; r++) {
    const off = r * C;
    const m = rowMax(x, off, C);
    let sum = 0;
    for (let j = 0; j < C; j++) {
      e[j] = Math.exp(x[off + j] - m);
      sum += e[j];
    }
    for (let j = 0; j < C; j++) out[off + j] = e[j] / sum;
  }
};

export const softmaxBackward: Backend['softmaxBackward'] = (y, dy, dx, N, C) => {
  for (let r = 0; r < N; r++) {
    const off = r * C;
    let dot = 0; // sum(dy * y)
    for (let j = 0; j < C; j++) dot += dy[off + j] * y[off + j];
    for (let j = 0; j < C; j++) dx[off + j] = y[off + j] * (dy[off + j] - dot);
  }
};

export const logSoftmax: Backend['logSoftmax'] = (x, out, N, C) => {
  for (let r = 0; r < N; r++) {
    const off = r * C;
    const lse = rowLogSumExp(x, off, C);
    for (let j = 0; j < C; j++) out[off + j] = x[off + j] - lse;
  }
};

export const logSoftmaxBackward: Backend['logSoftmaxBackward'] = (y, dy, dx, N, C) => {
  for (let r = 0; r < N; r++) {
    const off = r * C;
    let sum = 0; // sum(dy)
    for (let j = 0; j < C; j++) sum += dy[off + j];
    for (let j = 0; j < C; j++) dx[off + j] = dy[off + j] - Math.exp(y[off + j]) * sum;
  }
};
