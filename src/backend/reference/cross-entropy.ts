/**
 * Reference cross-entropy fused with log-softmax over logits (N, V), with label smoothing and an ignore index
 * (Backend.crossEntropy, Backend.crossEntropyBackward). The forward saves each row's logsumexp so the backward
 * rebuilds softmax as exp(logit - lse) without a second max pass. Per row, with s = labelSmoothing:
 *   loss = (1 - s) (lse - x[t]) + s (lse - mean_v x[v])
 *   dlogits[v] = dloss (softmax[v] - (1 - s) [v == t] - s / V)
 */
import type { Backend } from '../backend.ts';
import { rowLogSumExp } from './softmax.ts';

function checkTarget(kernel: string, r: number, t: number, V: number): void {
  if (!(t >= 0 && t < V)) {
    throw new RangeError(
      `${kernel}: targets[${r}] = ${t} is out of range for ${V} classes (and is not the ignore index)`,
    );
  }
}

export const crossEntropy: Backend['crossEntropy'] = (
  logits,
  targets,
  losses,
  lse,
  N,
  V,
  ignoreIndex,
  labelSmoothing,
) => {
  const s = labelSmoothing;
  for (let r = 0; r < N; r++) {
    const off = r * V; // logits[r, :]
    const l = rowLogSumExp(logits, off, V);
    lse[r] = l;
    const t = targets[r];
    if (t === ignoreIndex) {
      losses[r] = 0;
      continue;
    }
    checkTarget('crossEntropy', r, t, V);
    let loss = (1 - s) * (l - logits[off + t]);
    if (s !== 0) {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += logits[off + v];
      loss += s * (l - sum / V);
    }
    losses[r] = loss;
  }
};

export const crossEntropyBackward: Backend['crossEntropyBackward'] = (
  logits,
  lse,
  targets,
  dlosses,
  dlogits,
  N,
  V,
  ignoreIndex,
  labelSmoothing,
) => {
  const s = labelSmoothing;
  for (let r = 0; r < N; r++) {
    const off = r * V;
    const t = targets[r];
    if (t === ignoreIndex) {
      dlogits.fill(0, off, off + V);
      continue;
    }
    checkTarget('crossEntropyBackward', r, t, V);
    const d = dlosses[r];
    const l = lse[r];
    for (let v = 0; v < V; v++) {
      const p = Math.exp(logits[off + v] - l);
      dlogits[off + v] = d * (p - (v === t ? 1 - s : 0) - s / V);
    }
  }
};
