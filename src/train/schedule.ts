/**
 * Learning-rate schedules for pretraining: a linear warmup, then either a constant rate or a cosine decay to a
 * floor, as nanoGPT's `get_lr`. Step `it` is the number of optimizer updates already done (0 for the first
 * update). The warmup ramp is lr * (it + 1) / (warmup + 1) in nanoGPT; the PyTorch reference of
 * `llmforge bench charlm` (../shared/bench/torch_gpt_bench.py) divides by warmup instead, so the divisor is a
 * field and that benchmark selects the reference's form to match it update for update.
 */

export interface LrSchedule {
  /** 'cosine': warmup, then cosine decay from lr to minLr over [warmup, decaySteps]; 'constant': warmup, then lr. */
  kind: 'cosine' | 'constant';
  /** Peak learning rate. */
  lr: number;
  /** Floor of the cosine decay (reached at decaySteps and kept after). */
  minLr: number;
  /** Updates of linear warmup (0: none). */
  warmup: number;
  /** Update at which the cosine reaches minLr (usually the run's total steps). */
  decaySteps: number;
  /** Denominator of the warmup ramp: 'warmup+1' (nanoGPT, the default) or 'warmup' (the charlm PyTorch reference). */
  warmupDivisor?: 'warmup+1' | 'warmup';
}

/** The learning rate of update `it` (0-based). */
export function lrAt(it: number, s: LrSchedule): number {
  if (it < s.warmup) {
    const div = s.warmupDivisor === 'warmup' ? s.warmup : s.warmup + 1;
    return (s.lr * (it + 1)) / div;
  }
  if (s.kind === 'constant') return s.lr;
  if (it >= s.decaySteps) return s.minLr;
  const ratio = (it - s.warmup) / Math.max(1, s.decaySteps - s.warmup);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio));
  return s.minLr + coeff * (s.lr - s.minLr);
}

/** The cosine floor every trainer uses unless told otherwise: a tenth of the peak rate (nanoGPT's convention). */
export function defaultMinLr(lr: number): number {
  return lr / 10;
}
