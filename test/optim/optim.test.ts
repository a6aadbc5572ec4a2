/**
 * Optimizers at the tensor level: AdamW with a no-decay parameter group against the closed-form update, frozen
 * parameters skipped, the decay/no-decay split (decayGroups), SGD momentum, gradient clipping (in place and folded
 * into the step), and the same results on both backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeAvailable, withBackend } from '../../src/backend/index.ts';
import { tensor } from '../../src/tensor/creation.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { SGD } from '../../src/optim/sgd.ts';
import { clipGradNorm, clipScale, decayGroups, gradNorm } from '../../src/optim/param-groups.ts';
import { GPT } from '../../src/models/gpt.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { Rng } from '../../src/tensor/random.ts';
import * as F from '../../src/ops/index.ts';

const backends = nativeAvailable() ? (['reference', 'native'] as const) : (['reference'] as const);

function adamwRef(p: number, g: number, lr: number, wd: number, steps: number): number {
  let m = 0;
  let v = 0;
  for (let t = 1; t <= steps; t++) {
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    const mh = m / (1 - 0.9 ** t);
    const vh = v / (1 - 0.999 ** t);
    p -= lr * (mh / (Math.sqrt(vh) + 1e-8) + wd * p);
  }
  return p;
}

for (const name of backends) {
  test(`AdamW: decay and no-decay groups, frozen parameters skipped (${name})`, () => {
    withBackend(name, () => {
      const w = tensor([1, -2], undefined, { requiresGrad: true });
      const b = tensor([0.5], undefined, { requiresGrad: true });
      const frozen = tensor([3], undefined, { requiresGrad: true });
      const opt = new AdamW([{ params: [w, frozen] }, { params: [b], options: { weightDecay: 0 } }], {
        lr: 0.1,
        weightDecay: 0.5,
      });
      frozen.requiresGrad = false;
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        w.grad = tensor([0.3, -0.6]);
        b.grad = tensor([2]);
        frozen.grad = tensor([1]);
        opt.step();
      }
      // gradients are constant, but the weights change, so replay the closed form step by step
      assert.ok(Math.abs(w.data[0]! - adamwRef(1, 0.3, 0.1, 0.5, 3)) < 1e-6, `w0 ${w.data[0]}`);
      assert.ok(Math.abs(w.data[1]! - adamwRef(-2, -0.6, 0.1, 0.5, 3)) < 1e-6, `w1 ${w.data[1]}`);
      assert.ok(Math.abs(b.data[0]! - adamwRef(0.5, 2, 0.1, 0, 3)) < 1e-6, `b ${b.data[0]}`);
      assert.equal(frozen.data[0], 3);
    });
  });

  test(`SGD with momentum follows PyTorch's recurrence (${name})`, () => {
    withBackend(name, () => {
      const p = tensor([1], undefined, { requiresGrad: true });
      const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
      let ref = 1;
      let buf = 0;
      for (let s = 0; s < 4; s++) {
        p.grad = tensor([2 * p.data[0]!]);
        const g = 2 * ref;
        buf = s === 0 ? g : 0.9 * buf + g;
        ref -= 0.1 * buf;
        opt.step();
      }
      assert.ok(Math.abs(p.data[0]! - ref) < 1e-6);
    });
  });

  test(`gradient clipping: in place and folded into the step agree (${name})`, () => {
    withBackend(name, () => {
      const make = () => tensor([3, 4], undefined, { requiresGrad: true });
      const a = make();
      F.sum(F.mul(a, tensor([3, 4]))).backward(); // grad = [3, 4], norm 5
      assert.ok(Math.abs(gradNorm([a]) - 5) < 1e-6);
      const { norm, scale } = clipScale([a], 1);
      assert.ok(Math.abs(norm - 5) < 1e-6 && Math.abs(scale - 0.2) < 1e-6);
      assert.equal(clipScale([a], 10).scale, 1);
      const b = make();
      b.grad = a.grad!.clone();
      new SGD([a], { lr: 1 }).step(scale);
      clipGradNorm([b], 1);
      assert.ok(Math.abs(gradNorm([b]) - 1) < 1e-5);
      new SGD([b], { lr: 1 }).step();
      assert.ok(Math.abs(a.data[0]! - b.data[0]!) < 1e-6 && Math.abs(a.data[1]! - b.data[1]!) < 1e-6);
    });
  });
}

test('optimizer options are validated', () => {
  const p = tensor([1], undefined, { requiresGrad: true });
  assert.throws(() => new AdamW([p], { lr: -1 }), /AdamW: option lr must be a non-negative number/);
  assert.throws(() => new AdamW([]), /no parameters to optimize/);
  assert.throws(() => new AdamW([{ params: [p] }, { params: [p] }]), /appears in more than one group/);
  assert.throws(() => new SGD([p], { nesterov: true }), /nesterov needs momentum/);
});

test('decayGroups: matrices and embedding tables decay, biases and norm gains do not, empty groups left out', () => {
  const model = new GPT(
    completeModelConfig({ arch: 'gpt2', vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }),
    new Rng(1),
  );
  const params = model.parameters();
  const [decay, noDecay] = decayGroups(params);
  assert.ok(decay!.params.length > 0 && noDecay!.params.length > 0);
  assert.ok(decay!.params.every((p) => p.ndim >= 2) && decay!.options === undefined);
  assert.ok(noDecay!.params.every((p) => p.ndim === 1));
  assert.deepEqual(noDecay!.options, { weightDecay: 0 });
  assert.equal(decay!.params.length + noDecay!.params.length, params.length);
  assert.ok(decay!.params.includes(model.wte.weight), 'the token embedding decays');
  const vectors = params.filter((p) => p.ndim < 2);
  assert.deepEqual(decayGroups(vectors), [{ params: vectors, options: { weightDecay: 0 } }]);
});
