/**
 * Every differentiable op against central finite differences, in float64 on the reference backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, uniform, tensor } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import * as F from '../../src/ops/index.ts';
import { gradcheck } from '../helpers/gradcheck.ts';

const r = (shape: number[], seed: number, scale = 1): Tensor => {
  const t = randn(shape, { seed, std: scale });
  t.requiresGrad = true;
  return t;
};
const pos = (shape: number[], seed: number): Tensor => {
  const t = uniform(shape, 0.5, 2, { seed });
  t.requiresGrad = true;
  return t;
};

test('add/sub/mul/div with broadcasting and size-1 dims', () => {
  gradcheck(
    () => [r([3, 1, 4], 1), r([5, 1], 2)],
    (a, b) => F.add(a!, b!),
  );
  gradcheck(
    () => [r([2, 3], 1), r([3], 2)],
    (a, b) => F.sub(a!, b!),
  );
  gradcheck(
    () => [r([4, 1, 3], 3), r([1, 2, 3], 4)],
    (a, b) => F.mul(a!, b!),
  );
  gradcheck(
    () => [r([2, 3], 5), pos([1, 3], 6)],
    (a, b) => F.div(a!, b!),
  );
  gradcheck(
    () => [r([1], 5), r([2, 3], 6)],
    (a, b) => F.mul(a!, b!),
  );
});

test('maximum and minimum route the gradient', () => {
  gradcheck(
    () => [r([7], 1), r([7], 2)],
    (a, b) => F.maximum(a!, b!),
  );
  gradcheck(
    () => [r([2, 3], 3), r([3], 4)],
    (a, b) => F.minimum(a!, b!),
  );
});

test('scalar ops and pow', () => {
  gradcheck(
    () => [r([5], 1)],
    (a) => F.add(F.mul(a!, 3), 2),
  );
  gradcheck(
    () => [r([5], 1)],
    (a) => F.div(F.sub(a!, 1), 4),
  );
  gradcheck(
    () => [pos([6], 2)],
    (a) => F.pow(a!, 2.5),
  );
  gradcheck(
    () => [r([6], 2)],
    (a) => F.pow(a!, 3),
  );
});

test('unary activations', () => {
  for (const f of [F.neg, F.exp, F.tanh, F.silu, F.sigmoid])
    gradcheck(
      () => [r([17], 3)],
      (a) => f(a!),
    );
  gradcheck(
    () => [pos([9], 4)],
    (a) => F.log(a!),
  );
  gradcheck(
    () => [pos([9], 5)],
    (a) => F.sqrt(a!),
  );
  gradcheck(
    () => [r([17], 6)],
    (a) => F.gelu(a!, 'tanh'),
  );
  gradcheck(
    () => [r([17], 7)],
    (a) => F.gelu(a!, 'none'),
  );
  // relu/abs: keep inputs away from the kink
  gradcheck(
    () => [tensor([-2, -0.5, 0.3, 1.7, 3], undefined, { requiresGrad: true })],
    (a) => F.relu(a!),
  );
  gradcheck(
    () => [tensor([-2, -0.5, 0.3, 1.7, 3], undefined, { requiresGrad: true })],
    (a) => F.abs(a!),
  );
});

test('reshape, permute, transpose, slice, concat, split, expand', () => {
  gradcheck(
    () => [r([2, 6], 1)],
    (a) => F.mul(F.reshape(a!, [3, -1]), F.reshape(a!, [3, 4])),
  );
  gradcheck(
    () => [r([2, 3, 4], 2)],
    (a) => F.permute(a!, [2, 0, 1]),
  );
  gradcheck(
    () => [r([3, 5], 3)],
    (a) => F.transpose(a!, 0, 1),
  );
  gradcheck(
    () => [r([4, 5, 3], 4)],
    (a) => F.slice(a!, 1, 1, -1),
  );
  gradcheck(
    () => [r([2, 3], 5), r([2, 1], 6), r([2, 2], 7)],
    (a, b, c) => F.concat([a!, b!, c!], 1),
  );
  gradcheck(
    () => [r([5, 2], 8)],
    (a) => {
      const [x, y] = F.split(a!, [2, 3], 0);
      return F.add(F.sum(x!, 0), F.sum(F.mul(y!, y!), 0));
    },
  );
  gradcheck(
    () => [r([3, 1], 9)],
    (a) => F.expand(a!, [2, 3, 4]),
  );
});

test('sum, mean, max over dims with keepdim', () => {
  gradcheck(
    () => [r([3, 4, 5], 1)],
    (a) => F.sum(a!),
  );
  gradcheck(
    () => [r([3, 4, 5], 2)],
    (a) => F.sum(a!, [0, 2], true),
  );
  gradcheck(
    () => [r([3, 4, 5], 3)],
    (a) => F.mean(a!, 1),
  );
  gradcheck(
    () => [r([3, 4, 5], 4)],
    (a) => F.mean(a!, -1, true),
  );
  gradcheck(
    () => [r([3, 7], 5)],
    (a) => F.max(a!, 1),
  );
  gradcheck(
    () => [r([3, 7, 2], 6)],
    (a) => F.max(a!, 1, true),
  );
});

test('matmul: all transpose flags, batches, broadcasting; linear', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const as = ta ? [4, 3] : [3, 4];
    const bs = tb ? [5, 4] : [4, 5];
    gradcheck(
      () => [r(as, 1), r(bs, 2)],
      (a, b) => F.matmul(a!, b!, { transA: ta, transB: tb }),
    );
    gradcheck(
      () => [r([2, ...as], 3), r([2, ...bs], 4)],
      (a, b) => F.matmul(a!, b!, { transA: ta, transB: tb }),
    );
    gradcheck(
      () => [r([2, 1, ...as], 5), r([3, ...bs], 6)],
      (a, b) => F.matmul(a!, b!, { transA: ta, transB: tb }),
    );
    gradcheck(
      () => [r(as, 7), r([2, ...bs], 8)],
      (a, b) => F.matmul(a!, b!, { transA: ta, transB: tb }),
    );
  }
  gradcheck(
    () => [r([2, 3, 4], 9), r([4], 10)].slice(0, 1).concat([r([5, 4], 11), r([5], 12)]),
    (x, w, b) => F.linear(x!, w!, b!),
  );
});

test('softmax, logSoftmax', () => {
  gradcheck(
    () => [r([3, 5], 1, 2)],
    (a) => F.softmax(a!),
  );
  gradcheck(
    () => [r([2, 2, 7], 2, 2)],
    (a) => F.logSoftmax(a!),
  );
});

test('crossEntropy: mean, sum, none, ignore index, label smoothing', () => {
  const targets = [1, 0, -100, 4, 2];
  gradcheck(
    () => [r([5, 6], 1, 2)],
    (a) => F.crossEntropy(a!, targets),
  );
  gradcheck(
    () => [r([5, 6], 2, 2)],
    (a) => F.crossEntropy(a!, targets, { reduction: 'sum', labelSmoothing: 0.1 }),
  );
  gradcheck(
    () => [r([5, 6], 3, 2)],
    (a) => F.crossEntropy(a!, targets, { reduction: 'none', labelSmoothing: 0.2 }),
  );
  gradcheck(
    () => [r([1, 5, 6], 4, 2)],
    (a) => F.crossEntropy(a!, [0, 0, 5, 5, -1], { ignoreIndex: -1 }),
  );
});

test('embedding (repeated ids) and gatherLast', () => {
  gradcheck(
    () => [r([6, 4], 1)],
    (w) => F.embedding(w!, [1, 5, 1, 0, 1], [5]),
  );
  gradcheck(
    () => [r([6, 3], 2)],
    (w) => F.embedding(w!, [2, 2, 3, 4], [2, 2]),
  );
  gradcheck(
    () => [r([2, 3, 5], 3)],
    (x) => F.gatherLast(x!, [0, 4, 4, 1, 2, 3]),
  );
});

test('layerNorm (with and without bias), rmsNorm', () => {
  gradcheck(
    () => [r([4, 7], 1, 2), r([7], 2), r([7], 3)],
    (x, w, b) => F.layerNorm(x!, w!, b!),
  );
  gradcheck(
    () => [r([2, 3, 5], 4, 2), r([5], 5)],
    (x, w) => F.layerNorm(x!, w!, null),
  );
  gradcheck(
    () => [r([4, 7], 6, 2), r([7], 7)],
    (x, w) => F.rmsNorm(x!, w!),
  );
});

test('rope', () => {
  const tables = () => F.ropeTables(3, 6, 10000, 2);
  gradcheck(
    () => [r([2, 3, 2, 6], 1)],
    (x) => F.rope(x!, tables()),
  );
});

test('attention: causal, GQA, non-causal, decode offset, segments', () => {
  const q = () => r([2, 4, 4, 3], 1);
  gradcheck(
    () => [q(), r([2, 4, 2, 3], 2), r([2, 4, 2, 3], 3)],
    (a, b, c) => F.attention(a!, b!, c!),
  );
  gradcheck(
    () => [q(), r([2, 5, 4, 3], 2), r([2, 5, 4, 3], 3)],
    (a, b, c) => F.attention(a!, b!, c!, { causal: false }),
  );
  gradcheck(
    () => [r([1, 2, 2, 3], 4), r([1, 5, 1, 3], 5), r([1, 5, 1, 3], 6)],
    (a, b, c) => F.attention(a!, b!, c!, { qOffset: 3 }),
  );
  const seg = Int32Array.from([0, 0, 1, 1, 5, 5, 5, 6]);
  gradcheck(
    () => [q(), r([2, 4, 2, 3], 7), r([2, 4, 2, 3], 8)],
    (a, b, c) => F.attention(a!, b!, c!, { segQ: seg, segK: seg }),
  );
});

test('attentionFromQKV (packed c_attn output), causal and not, and equal to split + attention', () => {
  gradcheck(
    () => [r([2, 4, 18], 1)],
    (x) => F.attentionFromQKV(x!, 2),
  );
  gradcheck(
    () => [r([1, 5, 12], 2)],
    (x) => F.attentionFromQKV(x!, 1, { causal: false }),
  );
  const x = randn([2, 5, 24], { seed: 3 });
  const [q, k, v] = F.split(x, 8, 2).map((t) => F.reshape(t, [2, 5, 2, 4])) as [Tensor, Tensor, Tensor];
  const want = F.attention(q, k, v);
  const got = F.attentionFromQKV(x, 2);
  assert.deepEqual(got.shape, [2, 5, 8]);
  assert.deepEqual(Array.from(got.data), Array.from(want.data));
  assert.throws(
    () => F.attentionFromQKV(randn([2, 5, 24]), 5),
    /attentionFromQKV: qkv must be \(B, T, 3C\) with C a multiple of nHead 5; received \[2, 5, 24\]/,
  );
});

test('dropout (fixed seed) and where / maskedFill', () => {
  gradcheck(
    () => [r([50], 1)],
    (x) => F.dropout(x!, 0.3, 42),
  );
  const cond = Uint8Array.from([1, 0, 0, 1, 1, 0]);
  gradcheck(
    () => [r([2, 3], 2), r([2, 3], 3)],
    (a, b) => F.where(cond, a!, b!),
  );
  gradcheck(
    () => [r([2, 3], 4)],
    (a) => F.maskedFill(a!, cond, -1e4),
  );
});

test('composite: a tiny MLP loss', () => {
  gradcheck(
    () => [r([4, 3], 1), r([5, 3], 2, 0.5), r([5], 3), r([2, 5], 4, 0.5)],
    (x, w1, b1, w2) => F.crossEntropy(F.linear(F.gelu(F.linear(x!, w1!, b1!)), w2!), [0, 1, 1, 0]),
  );
});
