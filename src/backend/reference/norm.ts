/**
 * Reference LayerNorm and RMSNorm over the rows of (N, C), forward and backward side by side as in llm.c.
 * The forwards save per-row statistics (mean and rstd for LayerNorm, rstd for RMSNorm) for the backwards.
 * LayerNorm uses the biased variance, rstd = 1 / sqrt(var + eps). The backwards write dx and accumulate
 * (+=) the weight and bias gradients; those are summed over rows in float64 and added once at the end.
 */
import type { Backend } from '../backend.ts';

export const layerNorm: Backend['layerNorm'] = (x, weight, bias, out, mean, rstd, N, C, eps) => {
  for (let r = 0; r < N; r++) {
    const off = r * C; // x[r, :]
    let sum = 0;
    for (let c = 0; c < C; c++) sum += x[off + c];
    const m = sum / C;
    let sq = 0;
    for (let c = 0; c < C; c++) {
      const d = x[off + c] - m;
      sq += d * d;
    }
    const s = 1 / Math.sqrt(sq / C + eps);
    for (let c = 0; c < C; c++) {
      const norm = (x[off + c] - m) * s;
      out[off + c] = norm * weight[c] + (bias === null ? 0 : bias[c]);
    }
    mean[r] = m;
    rstd[r] = s;
  }
};

export const layerNormBackward: Backend['layerNormBackward'] = (
  dout,
  x,
  weight,
  mean,
  rstd,
  dx,
  dweight,
  dbias,
  N,
  C,
) => {
  const dw = new Float64Array(C); // (C)
  const db = new Float64Array(C); // (C)
  for (let r = 0; r < N; r++) {
    const off = r * C;
    const m = mean[r];
    const s = rstd[r];
    // Two reductions: mean(dnorm) and mean(dnorm * norm), where dnorm = dout * weight.
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (x[off + c] - m) * s;
      const dnorm = dout[off + c] * weight[c];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (x[off + c] - m) * s;
      const dnorm = dout[off + c] * weight[c];
      dx[off + c] = (dnorm - dnormMean - norm * dnormNormMean) * s;
      dw[c] += norm * dout[off + c];
      db[c] += dout[off + c];
    }
  }
  for (let c = 0; c < C; c++) {
    dweight[c] += dw[c];
    if (dbias !== null) dbias[c] += db[c];
  }
};

export const rmsNorm: Backend['rmsNorm'] = (x, weight, out, rstd, N, C, eps) => {
  for (let r = 0; r < N; r++) {
    const off = r * C;
    let sq = 0;
    for (let c = 0; c < C; c++) sq += x[off + c] * x[off + c];
    const s = 1 / Math.sqrt(sq / C + eps);
    for (let c = 0; c < C; c++) out[off + c] = x[off + c] * s * weight[c];
    rstd[r] = s;
  }
};

export const rmsNormBackward: Backend['rmsNormBackward'] = (dout, x, weight, rstd, dx, dweight, N, C) => {
  const dw = new Float64Array(C); // (C)
  for (let r = 0; r < N; r++) {
    const off = r * C;
    const s = rstd[r];
    // dx = rstd * (dnorm - norm * mean(dnorm * norm)), norm = x * rstd, dnorm = dout * weight
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) dnormNormMean += dout[off + c] * weight[c] * x[off + c] * s;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = x[off + c] * s;
      dx[off + c] = (dout[off + c] * weight[c] - norm * dnormNormMean) * s;
      dw[c] += norm * dout[off + c];
    }
  }
  for (let c = 0; c < C; c++) dweight[c] += dw[c];
};
