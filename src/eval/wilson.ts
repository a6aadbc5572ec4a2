/**
 * The Wilson score interval for a binomial proportion: with k successes in n trials and z the normal quantile
 * (1.96 for 95%), the centre is (p + z²/2n) / (1 + z²/n) and the half-width z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n),
 * where p = k/n. Unlike the normal ("Wald") interval it stays inside [0, 1] and is not zero-width at 0% or 100%,
 * which matters for the small evaluation sets a toy model is scored on.
 */

export interface Interval {
  low: number;
  high: number;
}

/** Wilson interval of k successes out of n (z = 1.96: 95%); [0, 1] when n is 0. */
export function wilsonInterval(k: number, n: number, z = 1.96): Interval {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(k) && k >= 0 && k <= n))
    throw new RangeError(`wilsonInterval: expected integers 0 <= k <= n, received k = ${k}, n = ${n}`);
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
