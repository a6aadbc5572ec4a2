/**
 * The PPO loss of one mini-batch of response tokens (Schulman et al. 2017, in the TRL formulation), one op with its
 * gradient in closed form beside the forward. Over the N response tokens of the mini-batch (masked means: every
 * token counts once), with ratio = exp(logp - oldLogp):
 *   policy: mean(max(-A ratio, -A clamp(ratio, 1 - eps, 1 + eps)))
 *   value:  0.5 mean(max((v - R)^2, (clamp(v, oldV - epsV, oldV + epsV) - R)^2))
 *   loss = policy + vfCoef value
 * A are the (whitened) advantages, R the returns; old log-probabilities and values are those of the rollout.
 * Also reported: the share of tokens whose policy term is clipped, the share whose value term is clipped, and
 * approxKl = 0.5 mean((logp - oldLogp)^2). A clamp passes the gradient inside its range (ends included) and none
 * outside, and max sends it to the larger term (half to each on a tie, as PyTorch; both halves agree there).
 */
import { record } from '../tensor/autograd.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { empty } from '../ops/util.ts';

export interface PpoLossOptions {
  /** Policy ratio clip range eps. */
  clipRange: number;
  /** Value clip range epsV around the rollout's values. */
  clipRangeValue: number;
  /** Weight of the value loss. */
  vfCoef: number;
}

export interface PpoLossTargets {
  oldLogprobs: ArrayLike<number>;
  oldValues: ArrayLike<number>;
  advantages: ArrayLike<number>;
  returns: ArrayLike<number>;
}

export interface PpoLossResult {
  /** policy + vfCoef * value (scalar), differentiable w.r.t. logprobs and values. */
  loss: Tensor;
  policyLoss: number;
  valueLoss: number;
  clipFrac: number;
  valueClipFrac: number;
  approxKl: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** The loss over N tokens: logprobs and values are (N) tensors of the current policy and value head. */
export function ppoLoss(logprobs: Tensor, values: Tensor, t: PpoLossTargets, o: PpoLossOptions): PpoLossResult {
  const N = logprobs.size;
  if (
    values.size !== N ||
    t.oldLogprobs.length !== N ||
    t.oldValues.length !== N ||
    t.advantages.length !== N ||
    t.returns.length !== N
  ) {
    throw new RangeError(
      `ppoLoss: expected ${N} values, old log-probabilities, old values, advantages and returns, received ${values.size}, ${t.oldLogprobs.length}, ${t.oldValues.length}, ${t.advantages.length}, ${t.returns.length}`,
    );
  }
  if (N === 0) throw new RangeError('ppoLoss: no response tokens');
  const dlp = new Float64Array(N); // d loss / d logp, before the 1/N of the mean
  const dv = new Float64Array(N);
  let pg = 0;
  let vf = 0;
  let clipped = 0;
  let vClipped = 0;
  let kl = 0;
  const lo = 1 - o.clipRange;
  const hi = 1 + o.clipRange;
  for (let i = 0; i < N; i++) {
    const diff = logprobs.data[i]! - t.oldLogprobs[i]!;
    const ratio = Math.exp(diff);
    const A = t.advantages[i]!;
    const l1 = -A * ratio;
    const l2 = -A * clamp(ratio, lo, hi);
    pg += Math.max(l1, l2);
    if (l2 > l1) clipped++;
    const inside = ratio >= lo && ratio <= hi;
    // d/dlogp of -A ratio is -A ratio; the clamped term has that gradient only inside the range.
    dlp[i] = inside || l1 > l2 ? -A * ratio : l1 === l2 ? -A * ratio * 0.5 : 0;
    kl += 0.5 * diff * diff;

    const v = values.data[i]!;
    const R = t.returns[i]!;
    const oldV = t.oldValues[i]!;
    const vc = clamp(v, oldV - o.clipRangeValue, oldV + o.clipRangeValue);
    const e1 = (v - R) * (v - R);
    const e2 = (vc - R) * (vc - R);
    vf += 0.5 * Math.max(e1, e2);
    if (e2 > e1) vClipped++;
    const vInside = v >= oldV - o.clipRangeValue && v <= oldV + o.clipRangeValue;
    dv[i] = vInside || e1 > e2 ? v - R : e1 === e2 ? 0.5 * (v - R) : 0;
  }
  const policyLoss = pg / N;
  const valueLoss = vf / N;
  const loss = empty([]);
  loss.data[0] = policyLoss + o.vfCoef * valueLoss;
  record(loss, 'ppoLoss', [logprobs, values], (g) => {
    const gl = empty(logprobs.shape);
    const gv = empty(values.shape);
    const s = g.data[0]! / N;
    for (let i = 0; i < N; i++) {
      gl.data[i] = s * dlp[i]!;
      gv.data[i] = s * o.vfCoef * dv[i]!;
    }
    return [gl, gv];
  });
  return { loss, policyLoss, valueLoss, clipFrac: clipped / N, valueClipFrac: vClipped / N, approxKl: kl / N };
}
