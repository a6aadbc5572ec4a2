/**
 * The DPO loss (Rafailov et al. 2023) and its variants, from summed response log-probabilities of a policy and a
 * frozen reference for the chosen and the rejected response of each pair. With h = (pc - rc) - (pr - rr) (how much
 * more the policy, relative to the reference, prefers the chosen response):
 *   sigmoid: -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)   (eps = label smoothing: conservative DPO,
 *            the preference label is taken as flipped with probability eps)
 *   ipo:     (h - 1 / (2 beta))^2                                       (Azar et al. 2023)
 * averaged over the pairs. The implicit rewards are beta (p - r) for each response. It is one op, forward and
 * backward together: the gradient w.r.t. pc and pr is written in closed form (log sigmoid evaluated stably), and
 * the reference log-probabilities are constants.
 */
import { record } from '../tensor/autograd.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { empty } from '../ops/util.ts';
import { UserError } from '../util/user-error.ts';

export type DpoLossType = 'sigmoid' | 'ipo';

export interface DpoLossOptions {
  /** Strength of the KL constraint: small beta lets the policy move far from the reference. */
  beta: number;
  loss: DpoLossType;
  /** Conservative DPO's label smoothing in [0, 0.5) (sigmoid loss only). */
  labelSmoothing: number;
}

export interface DpoLossResult {
  /** Mean loss over the pairs (scalar), differentiable w.r.t. the policy log-probabilities. */
  loss: Tensor;
  /** beta (pc - rc) per pair. */
  chosenRewards: Float64Array;
  /** beta (pr - rr) per pair. */
  rejectedRewards: Float64Array;
}

/** log sigmoid(x) without overflow for either sign. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Checks beta, the loss type and the label smoothing; `where` names the caller in the error. */
export function checkDpoOptions(o: DpoLossOptions, where: string): void {
  const fail = (m: string): never => {
    throw new UserError(`${where}: ${m}`);
  };
  if (!(Number.isFinite(o.beta) && o.beta > 0)) fail(`--beta must be a positive number, received ${o.beta}`);
  if (o.loss !== 'sigmoid' && o.loss !== 'ipo') fail(`--loss must be sigmoid or ipo, received "${String(o.loss)}"`);
  if (!(o.labelSmoothing >= 0 && o.labelSmoothing < 0.5))
    fail(`--label-smoothing must be in [0, 0.5), received ${o.labelSmoothing}`);
  if (o.loss === 'ipo' && o.labelSmoothing !== 0)
    fail('--label-smoothing applies to the sigmoid loss only (received it with --loss ipo)');
}

/**
 * The loss of B pairs: policyChosen and policyRejected are (B) tensors (sequenceLogprobs), refChosen and
 * refRejected the reference's log-probabilities of the same rows.
 */
export function dpoLoss(
  policyChosen: Tensor,
  policyRejected: Tensor,
  refChosen: ArrayLike<number>,
  refRejected: ArrayLike<number>,
  o: DpoLossOptions,
): DpoLossResult {
  const B = policyChosen.size;
  if (policyRejected.size !== B || refChosen.length !== B || refRejected.length !== B) {
    throw new RangeError(
      `dpoLoss: expected ${B} log-probabilities of each kind, received ${policyRejected.size} rejected, ${refChosen.length} and ${refRejected.length} reference`,
    );
  }
  const { beta, labelSmoothing: eps } = o;
  const chosenRewards = new Float64Array(B);
  const rejectedRewards = new Float64Array(B);
  const dh = new Float64Array(B); // d loss_b / d h_b
  let total = 0;
  for (let b = 0; b < B; b++) {
    const cr = policyChosen.data[b]! - refChosen[b]!;
    const rr = policyRejected.data[b]! - refRejected[b]!;
    chosenRewards[b] = beta * cr;
    rejectedRewards[b] = beta * rr;
    const h = cr - rr;
    if (o.loss === 'ipo') {
      const d = h - 1 / (2 * beta);
      total += d * d;
      dh[b] = 2 * d;
    } else {
      const z = beta * h;
      total += -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z);
      dh[b] = beta * (-(1 - eps) * sigmoid(-z) + eps * sigmoid(z));
    }
  }
  const loss = empty([]);
  loss.data[0] = total / B;
  record(loss, 'dpoLoss', [policyChosen, policyRejected], (g) => {
    const dc = empty(policyChosen.shape);
    const dr = empty(policyRejected.shape);
    const s = g.data[0]! / B;
    for (let b = 0; b < B; b++) {
      dc.data[b] = s * dh[b]!;
      dr.data[b] = -s * dh[b]!;
    }
    return [dc, dr];
  });
  return { loss, chosenRewards, rejectedRewards };
}

/** Per-batch summary: mean rewards, share of pairs whose chosen reward is higher, mean margin. */
export interface RewardStats {
  chosen: number;
  rejected: number;
  accuracy: number;
  margin: number;
}

export function rewardStats(chosen: ArrayLike<number>, rejected: ArrayLike<number>): RewardStats {
  const B = chosen.length;
  let c = 0;
  let r = 0;
  let wins = 0;
  for (let b = 0; b < B; b++) {
    c += chosen[b]!;
    r += rejected[b]!;
    if (chosen[b]! > rejected[b]!) wins++;
  }
  return { chosen: c / B, rejected: r / B, accuracy: wins / B, margin: (c - r) / B };
}
