/**
 * The DPO loss against PyTorch (fixtures/dpo-loss-golden.safetensors, scripts/fixtures/gen_dpo_golden.py): loss,
 * gradient w.r.t. the policy's chosen and rejected log-probabilities and implicit rewards for the sigmoid loss,
 * conservative DPO (label smoothing) and IPO, including log-ratio gaps of +-300 where a naive log(sigmoid(x))
 * overflows; at policy = reference the sigmoid loss is log 2 with a non-zero gradient; option checks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkDpoOptions, dpoLoss, rewardStats, type DpoLossType } from '../../src/align/dpo-loss.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { fromData } from '../../src/tensor/creation.ts';

const golden = readSafetensors(
  fileURLToPath(new URL('../../fixtures/dpo-loss-golden.safetensors', import.meta.url)),
).tensors;
const get = (name: string): Float32Array => golden.get(name)!.data;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const CASES: [DpoLossType, number, number, string][] = [
  ['sigmoid', 0.1, 0, 'sigmoid_beta0p1_eps0'],
  ['sigmoid', 0.5, 0.1, 'sigmoid_beta0p5_eps0p1'],
  ['ipo', 0.1, 0, 'ipo_beta0p1_eps0'],
];

for (const [loss, beta, labelSmoothing, tag] of CASES) {
  test(`DPO ${loss} loss (beta ${beta}, label smoothing ${labelSmoothing}): loss, gradient and rewards equal PyTorch's`, () => {
    const pc = fromData(Float32Array.from(get('policy_chosen')), [10], { requiresGrad: true });
    const pr = fromData(Float32Array.from(get('policy_rejected')), [10], { requiresGrad: true });
    const r = dpoLoss(pc, pr, get('ref_chosen'), get('ref_rejected'), { beta, loss, labelSmoothing });
    r.loss.backward();
    const want = get(`${tag}.loss`)[0]!;
    assert.ok(Number.isFinite(r.loss.item()), 'finite for gaps of 300');
    assert.ok(Math.abs(r.loss.item() - want) <= 1e-6 * Math.max(1, Math.abs(want)), `loss ${r.loss.item()} vs ${want}`);
    const dc = maxDiff(pc.grad!.toFlatArray(), get(`${tag}.grad_chosen`));
    const dr = maxDiff(pr.grad!.toFlatArray(), get(`${tag}.grad_rejected`));
    const scale = loss === 'ipo' ? 1e-4 : 1e-7; // IPO's gradient reaches 61 here (float32 keeps 7 digits)
    assert.ok(dc < scale && dr < scale, `gradient differs by ${dc} (chosen), ${dr} (rejected)`);
    assert.ok(maxDiff(r.chosenRewards, get(`${tag}.rewards_chosen`)) < 1e-5);
    assert.ok(maxDiff(r.rejectedRewards, get(`${tag}.rewards_rejected`)) < 1e-5);
  });
}

test('policy = reference: sigmoid loss log 2, rewards 0, and a gradient that raises chosen and lowers rejected', () => {
  const pc = fromData(Float32Array.from([-3, -7]), [2], { requiresGrad: true });
  const pr = fromData(Float32Array.from([-4, -2]), [2], { requiresGrad: true });
  const r = dpoLoss(pc, pr, [-3, -7], [-4, -2], { beta: 0.1, loss: 'sigmoid', labelSmoothing: 0 });
  r.loss.backward();
  assert.ok(Math.abs(r.loss.item() - Math.log(2)) < 1e-7);
  assert.deepEqual([...r.chosenRewards, ...r.rejectedRewards], [0, 0, 0, 0]);
  // d/dpc of -log sigmoid(beta h) at h = 0 is -beta/2, averaged over 2 pairs: -0.025
  for (const g of pc.grad!.toFlatArray()) assert.ok(Math.abs(g + 0.025) < 1e-7, `${g}`);
  for (const g of pr.grad!.toFlatArray()) assert.ok(Math.abs(g - 0.025) < 1e-7, `${g}`);
  assert.deepEqual(rewardStats([1, 0, 2], [0, 0, 3]), { chosen: 1, rejected: 1, accuracy: 1 / 3, margin: 0 });
});

test('options: beta, loss type and label smoothing are checked with one-line errors', () => {
  const ok = { beta: 0.1, loss: 'sigmoid' as const, labelSmoothing: 0 };
  checkDpoOptions(ok, 'dpo');
  assert.throws(
    () => checkDpoOptions({ ...ok, beta: 0 }, 'dpo'),
    /^Error: dpo: --beta must be a positive number, received 0$/,
  );
  assert.throws(
    () => checkDpoOptions({ ...ok, loss: 'hinge' as DpoLossType }, 'dpo'),
    /--loss must be sigmoid or ipo, received "hinge"/,
  );
  assert.throws(
    () => checkDpoOptions({ ...ok, labelSmoothing: 0.5 }, 'dpo'),
    /--label-smoothing must be in \[0, 0.5\), received 0.5/,
  );
  assert.throws(
    () => checkDpoOptions({ ...ok, loss: 'ipo', labelSmoothing: 0.1 }, 'dpo'),
    /applies to the sigmoid loss only/,
  );
  const pc = fromData(Float32Array.from([1, 2]), [2]);
  assert.throws(
    () => dpoLoss(pc, fromData(Float32Array.from([1]), [1]), [0, 0], [0, 0], ok),
    /expected 2 log-probabilities of each kind/,
  );
});
