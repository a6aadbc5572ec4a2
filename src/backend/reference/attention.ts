/**
 * Reference fused attention: readable TypeScript, generic over Float32Array and Float64Array, accumulating in
 * float64. It works one query row at a time, holding that row's scores (Tk numbers), never a (Tq, Tk) matrix.
 * It is the ground truth the native tiled kernel (native/src/attention.cc) is tested against.
 * Contract: Backend.attention and Backend.attentionBackward in ../backend.ts.
 *
 * Layouts: q, out, dq (B, Tq, Hq, D); k, v, dk, dv (B, Tk, Hkv, D); lse (B, Hq, Tq).
 */
import type { Backend, FloatArray } from '../backend.ts';

/** Checks the sizes shared by the forward and the backward; throws a RangeError naming the problem. */
function checkShapes(
  op: string,
  Hq: number,
  Hkv: number,
  segQ: Int32Array | null,
  segK: Int32Array | null,
  B: number,
  Tq: number,
  Tk: number,
): void {
  if (Hkv < 1 || Hq % Hkv !== 0) {
    throw new RangeError(`${op}: Hq (${Hq}) must be a positive multiple of Hkv (${Hkv})`);
  }
  if (segQ !== null && segQ.length < B * Tq) {
    throw new RangeError(`${op}: segQ has ${segQ.length} elements, needs B * Tq = ${B * Tq}`);
  }
  if (segK !== null && segK.length < B * Tk) {
    throw new RangeError(`${op}: segK has ${segK.length} elements, needs B * Tk = ${B * Tk}`);
  }
}

/**
 * Fills `scores` (length Tk) with the scaled scores of query row (b, i, h) and -Infinity where the key is masked.
 * Returns the row maximum (-Infinity when every key is masked; NaN when a score is NaN, so a NaN query row
 * propagates to out and lse instead of reading as a row that sees no key).
 */
function rowScores(
  q: FloatArray,
  k: FloatArray,
  scores: Float64Array,
  b: number,
  i: number,
  h: number,
  g: number,
  Tq: number,
  Tk: number,
  Hq: number,
  Hkv: number,
  D: number,
  scale: number,
  causal: boolean,
  qOffset: number,
  segQ: Int32Array | null,
  segK: Int32Array | null,
): number {
  const qBase = ((b * Tq + i) * Hq + h) * D;
  const lastKey = causal ? Math.min(Tk - 1, qOffset + i) : Tk - 1;
  const sq = segQ === null ? 0 : segQ[b * Tq + i]!;
  let max = -Infinity;
  for (let j = 0; j < Tk; j++) {
    if (j > lastKey || (segK !== null && segK[b * Tk + j] !== sq)) {
      scores[j] = -Infinity;
      continue;
    }
    const kBase = ((b * Tk + j) * Hkv + g) * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qBase + d]! * k[kBase + d]!;
    const s = dot * scale;
    scores[j] = s;
    if (s > max || Number.isNaN(s)) max = s; // a NaN score makes the row maximum NaN for good (NaN > x is false)
  }
  return max;
}

export const attention: Backend['attention'] = (
  q,
  k,
  v,
  out,
  lse,
  B,
  Tq,
  Tk,
  Hq,
  Hkv,
  D,
  scale,
  causal,
  qOffset,
  segQ,
  segK,
) => {
  checkShapes('attention', Hq, Hkv, segQ, segK, B, Tq, Tk);
  const group = Hq / Hkv;
  const scores = new Float64Array(Tk);
  const acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      for (let i = 0; i < Tq; i++) {
        const oBase = ((b * Tq + i) * Hq + h) * D;
        const lseIdx = (b * Hq + h) * Tq + i;
        const max = rowScores(q, k, scores, b, i, h, g, Tq, Tk, Hq, Hkv, D, scale, causal, qOffset, segQ, segK);
        if (max === -Infinity) {
          // The row sees no key: output 0, logsumexp -Infinity.
          for (let d = 0; d < D; d++) out[oBase + d] = 0;
          lse[lseIdx] = -Infinity;
          continue;
        }
        // Numerically stable softmax: exponentiate relative to the row maximum.
        let sum = 0;
        acc.fill(0);
        for (let j = 0; j < Tk; j++) {
          const s = scores[j]!;
          if (s === -Infinity) continue;
          const p = Math.exp(s - max);
          sum += p;
          const vBase = ((b * Tk + j) * Hkv + g) * D;
          for (let d = 0; d < D; d++) acc[d] += p * v[vBase + d]!;
        }
        for (let d = 0; d < D; d++) out[oBase + d] = acc[d]! / sum;
        lse[lseIdx] = max + Math.log(sum);
      }
    }
  }
};

export const attentionBackward: Backend['attentionBackward'] = (
  q,
  k,
  v,
  out,
  lse,
  dout,
  dq,
  dk,
  dv,
  B,
  Tq,
  Tk,
  Hq,
  Hkv,
  D,
  scale,
  causal,
  qOffset,
  segQ,
  segK,
) => {
  checkShapes('attentionBackward', Hq, Hkv, segQ, segK, B, Tq, Tk);
  const group = Hq / Hkv;
  const scores = new Float64Array(Tk);
  const dqRow = new Float64Array(D);
  // dk and dv sum over the query heads of a group and over query rows: accumulate in float64, write once.
  const dkAcc = new Float64Array(B * Tk * Hkv * D);
  const dvAcc = new Float64Array(B * Tk * Hkv * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      for (let i = 0; i < Tq; i++) {
        const qBase = ((b * Tq + i) * Hq + h) * D;
        const rowLse = lse[(b * Hq + h) * Tq + i]!;
        dqRow.fill(0);
        if (rowLse !== -Infinity) {
          rowScores(q, k, scores, b, i, h, g, Tq, Tk, Hq, Hkv, D, scale, causal, qOffset, segQ, segK);
          // delta = rowsum(dO * O) = sum_j P_j dP_j, the softmax-backward correction term.
          let delta = 0;
          for (let d = 0; d < D; d++) delta += dout[qBase + d]! * out[qBase + d]!;
          for (let j = 0; j < Tk; j++) {
            const s = scores[j]!;
            if (s === -Infinity) continue;
            const p = Math.exp(s - rowLse); // P recomputed from the saved logsumexp
            const kvBase = ((b * Tk + j) * Hkv + g) * D;
            let dp = 0; // dP_j = dO . V_j
            for (let d = 0; d < D; d++) dp += dout[qBase + d]! * v[kvBase + d]!;
            const ds = p * (dp - delta); // gradient with respect to the scaled score
            for (let d = 0; d < D; d++) {
              dvAcc[kvBase + d] += p * dout[qBase + d]!;
              dkAcc[kvBase + d] += scale * ds * q[qBase + d]!;
              dqRow[d] += scale * ds * k[kvBase + d]!;
            }
          }
        }
        for (let d = 0; d < D; d++) dq[qBase + d] = dqRow[d]!;
      }
    }
  }
  for (let idx = 0; idx < dkAcc.length; idx++) {
    dk[idx] = dkAcc[idx]!;
    dv[idx] = dvAcc[idx]!;
  }
};
