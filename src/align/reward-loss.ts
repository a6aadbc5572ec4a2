/**
 * The Bradley-Terry preference loss of reward modelling: for each pair, -log sigmoid(r_chosen - r_rejected - margin),
 * averaged over the pairs (the margin, 0 by default, asks the chosen reward to lead by at least that much, as TRL's
 * RewardTrainer does with a `margin` column). Computed as a two-class cross-entropy over the logits [0, d], which is
 * -log(e^d / (1 + e^d)) = -log sigmoid(d) and numerically stable for any d, with its gradient from crossEntropy.
 */
import * as F from '../ops/index.ts';
import { zeros } from '../tensor/creation.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Mean of -log sigmoid(rChosen - rRejected - margin) over pairs; rChosen and rRejected are (n). */
export function bradleyTerryLoss(rChosen: Tensor, rRejected: Tensor, margin = 0): Tensor {
  const n = rChosen.shape[0]!;
  if (rChosen.ndim !== 1 || rRejected.ndim !== 1 || rRejected.shape[0] !== n) {
    throw new RangeError(
      `bradleyTerryLoss: rChosen [${rChosen.shape.join(',')}] and rRejected [${rRejected.shape.join(',')}] must both be (n)`,
    );
  }
  const d = F.affine(F.sub(rChosen, rRejected), 1, -margin); // (n)
  const logits = F.concat([zeros([n, 1]), F.reshape(d, [n, 1])], 1); // (n, 2): class 1 is "chosen wins"
  return F.crossEntropy(logits, new Int32Array(n).fill(1));
}
