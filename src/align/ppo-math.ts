/**
 * The arithmetic of PPO-based RLHF between rollouts and the loss (the InstructGPT / TRL formulation), on plain
 * arrays: per-token rewards (a KL penalty -klCoef * (logp_policy - logp_ref) on every response token, the reward
 * model's score added at the last one), generalized advantage estimation GAE(gamma, lambda) with returns =
 * advantages + values, whitening of the advantages over all response tokens of a batch, and the adaptive KL
 * controller of Ziegler et al. (2019) that moves klCoef so the measured KL approaches a target.
 */

/** Per-token rewards of one response of n tokens: -klCoef * (logp - refLogp), plus `score` on the last token. */
export function klPenalizedRewards(
  score: number,
  logps: ArrayLike<number>,
  refLogps: ArrayLike<number>,
  klCoef: number,
): Float64Array {
  const n = logps.length;
  if (refLogps.length !== n)
    throw new RangeError(`klPenalizedRewards: ${n} policy and ${refLogps.length} reference log-probabilities`);
  const r = new Float64Array(n);
  for (let t = 0; t < n; t++) r[t] = -klCoef * (logps[t]! - refLogps[t]!);
  if (n > 0) r[n - 1]! += score;
  return r;
}

/**
 * GAE of one response: delta_t = r_t + gamma v_{t+1} - v_t (v_n = 0: the episode ends with the response),
 * A_t = delta_t + gamma lambda A_{t+1}; returns_t = A_t + v_t.
 */
export function gae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  gamma: number,
  lambda: number,
): { advantages: Float64Array; returns: Float64Array } {
  const n = rewards.length;
  if (values.length !== n) throw new RangeError(`gae: ${n} rewards and ${values.length} values`);
  const advantages = new Float64Array(n);
  const returns = new Float64Array(n);
  let next = 0;
  for (let t = n - 1; t >= 0; t--) {
    const nextValue = t + 1 < n ? values[t + 1]! : 0;
    const delta = rewards[t]! + gamma * nextValue - values[t]!;
    next = delta + gamma * lambda * next;
    advantages[t] = next;
    returns[t] = next + values[t]!;
  }
  return { advantages, returns };
}

/** (x - mean) / sqrt(var + 1e-8) over all values of all rows together, var with Bessel's correction (as TRL). */
export function whiten(rows: readonly Float64Array[]): Float64Array[] {
  let n = 0;
  let sum = 0;
  for (const r of rows)
    for (const v of r) {
      n++;
      sum += v;
    }
  if (n === 0) return rows.map((r) => Float64Array.from(r));
  const mean = sum / n;
  let ss = 0;
  for (const r of rows) for (const v of r) ss += (v - mean) * (v - mean);
  const variance = n > 1 ? ss / (n - 1) : 0;
  const scale = 1 / Math.sqrt(variance + 1e-8);
  return rows.map((r) => r.map((v) => (v - mean) * scale));
}

/** Adaptive KL coefficient (Ziegler et al. 2019): error = clip(kl / target - 1, -0.2, 0.2); coef *= 1 + error * n / horizon. */
export class AdaptiveKlController {
  constructor(
    public value: number,
    readonly target: number,
    readonly horizon: number,
  ) {}

  /** Updates the coefficient after a batch of `nSteps` rollouts whose mean KL was `currentKl`. */
  update(currentKl: number, nSteps: number): void {
    const error = Math.min(0.2, Math.max(-0.2, currentKl / this.target - 1));
    this.value *= 1 + (error * nSteps) / this.horizon;
  }
}
