/**
 * Tensor basics and the autograd engine: creation, printing, views, grad accumulation, noGrad, detach,
 * frozen parameters, and the error messages a user sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, full, ones, randn, tensor, uniform, zeros } from '../../src/tensor/creation.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import * as F from '../../src/ops/index.ts';
import { nativeAvailable, withBackend } from '../../src/backend/index.ts';

test('creation: shapes and values', () => {
  assert.deepEqual(zeros([2, 3]).toArray(), [
    [0, 0, 0],
    [0, 0, 0],
  ]);
  assert.deepEqual(ones([2]).toFlatArray(), [1, 1]);
  assert.deepEqual(full([1, 2], 7).toArray(), [[7, 7]]);
  assert.deepEqual(arange(5).toFlatArray(), [0, 1, 2, 3, 4]);
  assert.deepEqual(arange(1, 2, 0.25).toFlatArray(), [1, 1.25, 1.5, 1.75]);
  const t = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(tensor(3.5, []).item(), 3.5);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged nested array at \[1\]/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /needs 4 values, received 3/);
  assert.throws(() => zeros([2, -1]), /non-negative integers/);
  assert.throws(() => t.item(), /has 6 elements, expected 1/);
});

test('seeded random tensors are reproducible and well distributed', () => {
  const a = randn([1000], { seed: 5 });
  const b = randn([1000], { seed: 5 });
  assert.deepEqual(a.toFlatArray(), b.toFlatArray());
  assert.notDeepEqual(a.toFlatArray(), randn([1000], { seed: 6 }).toFlatArray());
  const big = randn([100000], { seed: 1, std: 2, mean: 1 });
  let s = 0;
  let s2 = 0;
  for (const v of big.data) {
    s += v;
    s2 += v * v;
  }
  const mean = s / big.size;
  const std = Math.sqrt(s2 / big.size - mean * mean);
  assert.ok(Math.abs(mean - 1) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(std - 2) < 0.03, `std ${std}`);
  const u = uniform([10000], -1, 3, { seed: 2 });
  assert.ok(u.toFlatArray().every((v) => v >= -1 && v < 3));
  const rng = new Rng(9);
  rng.nextUint32();
  const state = rng.getState();
  const next = [rng.random(), rng.normal(), rng.normal()];
  const other = new Rng(0);
  other.setState(state);
  assert.deepEqual([other.random(), other.normal(), other.normal()], next);
});

test('printing shows values, shape and grad_fn', () => {
  const t = tensor(
    [
      [1, 2.5],
      [3, 4],
    ],
    undefined,
    { requiresGrad: true },
  );
  assert.equal(t.toString(), 'tensor([[1., 2.5000],\n        [3., 4.]], shape=[2, 2], requiresGrad=true)');
  const y = F.mul(t, 2);
  assert.match(y.toString(), /grad_fn=affine/);
  assert.match(arange(100).toString(), /\[0\., 1\., 2\., \.\.\., 97\., 98\., 99\.\]/);
});

test('backward accumulates into leaves across calls; zeroGrad clears', () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  F.sum(F.mul(x, x)).backward();
  assert.deepEqual(x.grad!.toFlatArray(), [2, 4, 6]);
  F.sum(F.mul(x, x)).backward();
  assert.deepEqual(x.grad!.toFlatArray(), [4, 8, 12]);
  x.zeroGrad();
  assert.equal(x.grad, null);
});

test('a value used twice gets both contributions (fan-out)', () => {
  const x = tensor([3], undefined, { requiresGrad: true });
  const y = F.add(x, x); // passes the same gradient object to both inputs
  const z = F.mul(y, x); // 2x^2 -> 4x
  z.backward(tensor([1]));
  assert.deepEqual(x.grad!.toFlatArray(), [12]);
});

test('noGrad, detach and frozen parameters stop the graph', () => {
  const w = tensor([2], undefined, { requiresGrad: true });
  const frozen = tensor([5]);
  const y = noGrad(() => F.mul(w, 3));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const d = F.mul(w, 3).detach();
  assert.equal(d.requiresGrad, false);
  const z = F.mul(w, frozen);
  z.backward(tensor([1]));
  assert.deepEqual(w.grad!.toFlatArray(), [5]);
  assert.equal(frozen.grad, null);
  assert.throws(() => F.mul(frozen, 2).backward(tensor([1])), /does not require grad/);
});

test('backward of a non-scalar needs an explicit gradient of matching shape', () => {
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const y = F.mul(x, 2);
  assert.throws(() => y.backward(), /not a scalar; pass the gradient explicitly/);
  assert.throws(() => y.backward(tensor([1, 2, 3])), /does not match output shape/);
});

test('deep graphs do not overflow the stack', () => {
  const x = tensor([1], undefined, { requiresGrad: true });
  let y = x;
  for (let i = 0; i < 20000; i++) y = F.add(y, 1);
  y.backward(tensor([1]));
  assert.deepEqual(x.grad!.toFlatArray(), [1]);
});

test('reshape is a view; errors name the op and shapes', () => {
  const x = arange(6);
  const y = F.reshape(x, [2, -1]);
  assert.deepEqual(y.shape, [2, 3]);
  assert.equal(y.data, x.data);
  assert.throws(() => F.reshape(x, [4, -1]), /reshape: cannot reshape \[6\] \(6 elements\) to \[4, -1\]/);
  assert.throws(
    () => F.matmul(zeros([2, 3]), zeros([4, 5])),
    /matmul: a \[2, 3\] and b \[4, 5\]: inner dimensions 3 and 4 must match/,
  );
  assert.throws(() => F.add(zeros([2, 3]), zeros([4])), /add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  assert.throws(() => F.embedding(zeros([4, 2]), [1, 4]), /embedding: index 4 at position 1 is out of range \[0, 4\)/);
  assert.throws(() => F.crossEntropy(zeros([2, 3]), [0]), /have 2 rows but 1 targets/);
});

test('embedding and gathers refuse ids that are not integers (no truncation), on both backends', () => {
  for (const name of nativeAvailable() ? (['reference', 'native'] as const) : (['reference'] as const)) {
    withBackend(name, () => {
      const w = F.reshape(arange(8), [4, 2]);
      for (const [ids, bad, at] of [
        [[0, 1.5], '1.5', 1],
        [[Number.NaN], 'NaN', 0],
        [[2, 3, 2 ** 32 + 1], String(2 ** 32 + 1), 2],
        [[-0.5], '-0.5', 0],
      ] as const) {
        const what = Number.isInteger(Number(bad)) ? 'is out of range \\[0, 4\\)' : 'is not an integer';
        const want = new RegExp(`embedding: index ${bad.replace('.', '\\.')} at position ${at} ${what}`);
        assert.throws(() => F.embedding(w, ids), want, `${name} ${bad}`);
      }
      assert.throws(
        () => F.gatherLast(zeros([2, 3]), [0, 2.5]),
        /gatherLast: index 2.5 at position 1 is not an integer/,
      );
      assert.throws(
        () => F.crossEntropy(zeros([1, 3]), [Number.NaN]),
        /crossEntropy: index NaN at position 0 is not an integer/,
      );
      assert.deepEqual(F.embedding(w, [3, 0]).toFlatArray(), [6, 7, 0, 1]); // integers still work, as numbers or Int32Array
      assert.deepEqual(F.embedding(w, Int32Array.of(1)).toFlatArray(), [2, 3]);
    });
  }
});

test('shape ops give the expected values', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.deepEqual(F.transpose(x).toArray(), [
    [1, 4],
    [2, 5],
    [3, 6],
  ]);
  assert.deepEqual(F.slice(x, 1, 1).toArray(), [
    [2, 3],
    [5, 6],
  ]);
  assert.deepEqual(F.concat([x, x], 0).shape, [4, 3]);
  assert.deepEqual(
    F.split(x, 2, 1).map((t) => t.toArray()),
    [
      [
        [1, 2],
        [4, 5],
      ],
      [[3], [6]],
    ],
  );
  assert.deepEqual(F.sum(x, 1).toFlatArray(), [6, 15]);
  assert.deepEqual(F.max(x, 0).toFlatArray(), [4, 5, 6]);
  assert.deepEqual(Array.from(F.argmax(x, 1)), [2, 2]);
  assert.deepEqual(F.matmul(x, x, { transB: true }).toArray(), [
    [14, 32],
    [32, 77],
  ]);
});

test('leaf gradients never alias each other or the seed gradient', () => {
  const a = tensor([1, 2], undefined, { requiresGrad: true });
  const b = tensor([3, 4], undefined, { requiresGrad: true });
  const seed = tensor([1, 1]);
  F.add(a, b).backward(seed); // add passes the same gradient to both inputs
  F.mul(a, 3).backward(tensor([1, 1])); // accumulates into a.grad in place
  assert.deepEqual(a.grad!.toFlatArray(), [4, 4]);
  assert.deepEqual(b.grad!.toFlatArray(), [1, 1]);
  assert.deepEqual(seed.toFlatArray(), [1, 1]);
  const c = tensor([5], undefined, { requiresGrad: true });
  const r = F.reshape(c, [1, 1]); // a view: its gradient is a view of the output gradient
  F.sum(F.add(r, r)).backward();
  assert.deepEqual(c.grad!.toFlatArray(), [2]);
});
