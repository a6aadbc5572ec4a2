/**
 * The Bradley-Terry loss against PyTorch: loss and gradient with respect to the chosen and rejected rewards for
 * margins 0 and 0.5 (fixtures/reward-bradley-terry-golden.safetensors, scripts/fixtures/gen_reward_golden.py), including
 * reward differences of +-100 where a naive log(sigmoid(d)) would overflow; and the argument check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { bradleyTerryLoss } from '../../src/align/reward-loss.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { fromData } from '../../src/tensor/creation.ts';

const golden = readSafetensors(
  fileURLToPath(new URL('../../fixtures/reward-bradley-terry-golden.safetensors', import.meta.url)),
).tensors;
const get = (name: string): Float32Array => golden.get(name)!.data;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const [margin, tag] of [
  [0, 'margin_0'],
  [0.5, 'margin_0p5'],
] as const) {
  test(`Bradley-Terry loss and its gradient equal PyTorch's -logsigmoid, margin ${margin}`, () => {
    const rc = fromData(Float32Array.from(get('r_chosen')), [12], { requiresGrad: true });
    const rr = fromData(Float32Array.from(get('r_rejected')), [12], { requiresGrad: true });
    const loss = bradleyTerryLoss(rc, rr, margin);
    loss.backward();
    const dl = Math.abs(loss.item() - get(`${tag}.loss`)[0]!);
    const dc = maxDiff(rc.grad!.toFlatArray(), get(`${tag}.grad_chosen`));
    const dr = maxDiff(rr.grad!.toFlatArray(), get(`${tag}.grad_rejected`));
    assert.ok(Number.isFinite(loss.item()), 'finite for |d| = 120');
    assert.ok(dl < 1e-5, `loss differs by ${dl}`);
    assert.ok(dc < 1e-6 && dr < 1e-6, `gradient differs by ${dc} (chosen), ${dr} (rejected)`);
  });
}

test('a margin raises the loss; chosen and rejected must have the same length', () => {
  const rc = fromData(Float32Array.from([1, 2]), [2]);
  const rr = fromData(Float32Array.from([0, 0]), [2]);
  assert.ok(bradleyTerryLoss(rc, rr, 1).item() > bradleyTerryLoss(rc, rr).item());
  assert.throws(
    () => bradleyTerryLoss(rc, fromData(Float32Array.from([0]), [1])),
    /rChosen \[2\] and rRejected \[1\] must both be \(n\)/,
  );
});
