/**
 * PPO's arithmetic against hand computations and PyTorch (fixtures/ppo-golden.safetensors,
 * scripts/fixtures/gen_ppo_golden.py): the KL penalty on every response token with the score on the last one, GAE
 * on a small example worked by hand, rewards / advantages / returns / whitening of three responses, the clipped
 * policy and value losses with their gradients w.r.t. log-probabilities and values, clip fractions; the adaptive KL
 * controller; the rollout batch layout and the value-head forward's log-probabilities against the model's logits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AdaptiveKlController, gae, klPenalizedRewards, whiten } from '../../src/align/ppo-math.ts';
import { ppoLoss } from '../../src/align/ppo-loss.ts';
import { policyForward, rolloutBatch, ValueHead } from '../../src/align/ppo-policy.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { fromData } from '../../src/tensor/creation.ts';
import { Rng } from '../../src/tensor/random.ts';

const golden = readSafetensors(
  fileURLToPath(new URL('../../fixtures/ppo-golden.safetensors', import.meta.url)),
).tensors;
const get = (name: string): Float32Array => golden.get(name)!.data;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('KL penalty: -klCoef * (logp - ref) on every response token, the score added to the last only', () => {
  const r = klPenalizedRewards(2, [-1, -2, -3], [-1.5, -2, -1], 0.1);
  assert.ok(maxDiff(r, [-0.05, 0, 2.2]) < 1e-12, `${[...r]}`);
  assert.deepEqual([...klPenalizedRewards(0.5, [-1], [-1], 0.3)], [0.5]);
});

test('GAE: a three-token example worked by hand', () => {
  // gamma 1, lambda 1: every advantage is the final reward minus the value; returns are the reward to go.
  const a = gae([0, 0, 1], [0.5, 0.5, 0.5], 1, 1);
  assert.ok(maxDiff(a.advantages, [0.5, 0.5, 0.5]) < 1e-12 && maxDiff(a.returns, [1, 1, 1]) < 1e-12);
  // gamma 0.9, lambda 0.5: delta = [-0.05, -0.05, 0.5]; A2 = 0.5, A1 = -0.05 + 0.45 * 0.5, A0 = -0.05 + 0.45 * A1.
  const b = gae([0, 0, 1], [0.5, 0.5, 0.5], 0.9, 0.5);
  assert.ok(maxDiff(b.advantages, [0.02875, 0.175, 0.5]) < 1e-12, `${[...b.advantages]}`);
  assert.ok(maxDiff(b.returns, [0.52875, 0.675, 1]) < 1e-12);
});

test("rewards, GAE, whitening, clipped losses and their gradients equal PyTorch's", () => {
  const lengths = [...get('lengths')];
  const at = (name: string, b: number): Float32Array => {
    const o = lengths.slice(0, b).reduce((s, n) => s + n, 0);
    return get(name).subarray(o, o + lengths[b]!);
  };
  const rewards: number[] = [];
  const adv: Float64Array[] = [];
  const returns: number[] = [];
  lengths.forEach((_, b) => {
    const r = klPenalizedRewards(get('scores')[b]!, at('old_logprobs', b), at('ref_logprobs', b), 0.1);
    const g = gae(r, at('old_values', b), 0.99, 0.95);
    rewards.push(...r);
    adv.push(g.advantages);
    returns.push(...g.returns);
  });
  assert.ok(maxDiff(rewards, get('rewards')) < 1e-6);
  assert.ok(
    maxDiff(
      adv.flatMap((a) => [...a]),
      get('advantages'),
    ) < 1e-5,
  );
  assert.ok(maxDiff(returns, get('returns')) < 1e-5);
  const whitened = whiten(adv).flatMap((a) => [...a]);
  assert.ok(maxDiff(whitened, get('whitened')) < 1e-5);

  const logprobs = fromData(Float32Array.from(get('new_logprobs')), [10], { requiresGrad: true });
  const values = fromData(Float32Array.from(get('new_values')), [10], { requiresGrad: true });
  const r = ppoLoss(
    logprobs,
    values,
    {
      oldLogprobs: get('old_logprobs'),
      oldValues: get('old_values'),
      advantages: get('whitened'),
      returns: get('returns'),
    },
    { clipRange: 0.2, clipRangeValue: 0.2, vfCoef: 0.1 },
  );
  r.loss.backward();
  assert.ok(
    Math.abs(r.policyLoss - get('policy_loss')[0]!) < 1e-6,
    `policy ${r.policyLoss} vs ${get('policy_loss')[0]}`,
  );
  assert.ok(Math.abs(r.valueLoss - get('value_loss')[0]!) < 1e-6, `value ${r.valueLoss} vs ${get('value_loss')[0]}`);
  assert.ok(Math.abs(r.loss.item() - get('loss')[0]!) < 1e-6);
  const dl = maxDiff(logprobs.grad!.toFlatArray(), get('grad_logprobs'));
  const dv = maxDiff(values.grad!.toFlatArray(), get('grad_values'));
  assert.ok(dl < 1e-7 && dv < 1e-7, `gradient max diff: logprobs ${dl}, values ${dv}`);
  assert.ok(
    get('grad_logprobs').some((g) => g === 0) && get('grad_values').some((g) => g === 0),
    'the fixture has clipped (zero-gradient) tokens',
  );
  assert.ok(Math.abs(r.clipFrac - get('clipfrac')[0]!) < 1e-7);
  assert.ok(Math.abs(r.valueClipFrac - get('value_clipfrac')[0]!) < 1e-7);
});

test('PPO loss at the rollout itself: ratio 1, nothing clipped, policy loss = -mean(A), approx KL 0', () => {
  const lp = fromData(Float32Array.of(-1, -2, -0.5), [3], { requiresGrad: true });
  const v = fromData(Float32Array.of(0.1, 0.2, 0.3), [3], { requiresGrad: true });
  const r = ppoLoss(
    lp,
    v,
    { oldLogprobs: lp.data, oldValues: v.data, advantages: [1, -2, 0.5], returns: v.data },
    { clipRange: 0.2, clipRangeValue: 0.2, vfCoef: 0.1 },
  );
  assert.ok(Math.abs(r.policyLoss - 0.5 / 3) < 1e-7);
  assert.equal(r.valueLoss, 0);
  assert.equal(r.clipFrac, 0);
  assert.equal(r.approxKl, 0);
  assert.throws(
    () =>
      ppoLoss(
        lp,
        v,
        { oldLogprobs: [0], oldValues: [0], advantages: [0], returns: [0] },
        { clipRange: 0.2, clipRangeValue: 0.2, vfCoef: 0.1 },
      ),
    /expected 3/,
  );
});

test('adaptive KL controller: the coefficient grows above the target, shrinks below it, by at most 20% x n / horizon', () => {
  const k = new AdaptiveKlController(0.2, 6, 10000);
  k.update(12, 1000); // error clipped to +0.2: x (1 + 0.02)
  assert.ok(Math.abs(k.value - 0.204) < 1e-12);
  k.update(3, 1000); // error -0.5 clipped to -0.2: x 0.98
  assert.ok(Math.abs(k.value - 0.204 * 0.98) < 1e-12);
  const k2 = new AdaptiveKlController(0.2, 6, 10000);
  k2.update(6.6, 500); // error 0.1: x (1 + 0.1 * 0.05)
  assert.ok(Math.abs(k2.value - 0.2 * 1.005) < 1e-12);
});

test('rollout batch: response token j of a row is predicted at position prompt + j - 1; policyForward matches the logits', () => {
  const batch = rolloutBatch(
    [
      [5, 6, 7, 8],
      [1, 2, 3, 4, 9],
    ],
    [2, 4],
    0,
  );
  assert.equal(batch.T, 4);
  assert.deepEqual([...batch.ids], [5, 6, 7, 0, 1, 2, 3, 4]);
  assert.deepEqual([...batch.positions], [1, 2, 7]);
  assert.deepEqual([...batch.targets], [7, 8, 9]);
  assert.deepEqual(batch.lengths, [2, 1]);

  const cfg = completeModelConfig({
    arch: 'gpt2',
    vocabSize: 11,
    blockSize: 8,
    nLayer: 1,
    nHead: 2,
    nEmbd: 16,
    dropout: 0,
  });
  const model = createModel(cfg, new Rng(4)).eval();
  const out = noGrad(() => policyForward(model, new ValueHead(16, new Rng(5)), batch));
  const logits = noGrad(() => model.forward(batch.ids, batch.B, batch.T).logits).data; // (B, T, V)
  [...batch.positions].forEach((pos, i) => {
    const row = logits.subarray(pos * 11, pos * 11 + 11);
    const m = Math.max(...row);
    const lse = m + Math.log([...row].reduce((s, x) => s + Math.exp(x - m), 0));
    assert.ok(Math.abs(out.logprobs.data[i]! - (row[batch.targets[i]!]! - lse)) < 1e-5);
    const p = [...row].map((x) => Math.exp(x - lse));
    const h = -p.reduce((s, q) => s + q * Math.log(q), 0);
    assert.ok(Math.abs(out.entropy[i]! - h) < 1e-5);
  });
  assert.equal(out.values!.size, 3);
});
