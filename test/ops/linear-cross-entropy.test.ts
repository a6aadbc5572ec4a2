/**
 * linearCrossEntropy (the fused language-model head + mean cross-entropy) against its composite definition
 * crossEntropy(linear(x, w), targets): finite differences in float64, the composite in fp32 on the native backend
 * (one chunk, several uneven chunks, ignored rows, every row ignored), native vs reference parity, repeated
 * backward passes over the same graph, and the chunk scratch: at most 16 MB kept between calls, arena storage in a
 * step arena.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBackend } from '../../src/backend/index.ts';
import { linearCrossEntropyScratchBytes } from '../../src/ops/linear-cross-entropy.ts';
import { StorageArena } from '../../src/tensor/arena.ts';
import { randn } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import * as F from '../../src/ops/index.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { assertClose, checkParity, hasNative } from '../helpers/parity.ts';

const r = (shape: number[], seed: number, scale = 1): Tensor => {
  const t = randn(shape, { seed, std: scale });
  t.requiresGrad = true;
  return t;
};
const targets = [3, 0, -100, 6, 2, 6];

test('linearCrossEntropy: gradients match finite differences (one chunk and uneven chunks)', () => {
  for (const chunkRows of [undefined, 1, 4]) {
    const opts = chunkRows === undefined ? {} : { chunkRows };
    gradcheck(
      () => [r([2, 3, 5], 1), r([7, 5], 2, 0.7)],
      (x, w) => F.linearCrossEntropy(x!, w!, targets, opts),
    );
  }
  gradcheck(
    () => [r([4, 5], 3), r([7, 5], 4)],
    (x, w) => F.linearCrossEntropy(x!, w!, [1, 1, -1, 0], { ignoreIndex: -1, chunkRows: 3 }),
  );
});

test('linearCrossEntropy equals crossEntropy(linear(x, w)) in fp32, value and gradients', () => {
  const backends = hasNative ? (['native', 'reference'] as const) : (['reference'] as const);
  for (const be of backends) {
    withBackend(be, () => {
      for (const [N, V, C, chunkRows] of [
        [6, 7, 5, undefined],
        [37, 29, 19, 8],
        [37, 29, 19, 37],
        [5, 3, 4, 2],
      ] as const) {
        const ts = Array.from({ length: N }, (_, i) => (i % 5 === 4 ? -100 : (i * 7) % V));
        const run = (fused: boolean) => {
          const x = r([N, C], 11);
          const w = r([V, C], 12, 0.5);
          const loss = fused
            ? F.linearCrossEntropy(x, w, ts, chunkRows === undefined ? {} : { chunkRows })
            : F.crossEntropy(F.linear(x, w), ts);
          loss.backward();
          return { loss: loss.data, dx: x.grad!.data, dw: w.grad!.data };
        };
        const a = run(true);
        const b = run(false);
        const tag = `${be} N${N} V${V} C${C} chunk ${chunkRows ?? 'auto'}`;
        assertClose(`${tag} loss`, a.loss, b.loss, 1e-6, 1e-5);
        assertClose(`${tag} dx`, a.dx, b.dx, 1e-6, 1e-4);
        assertClose(`${tag} dw`, a.dw, b.dw, 1e-6, 1e-4);
      }
    });
  }
});

test('linearCrossEntropy: every row ignored gives NaN and zero gradients, like crossEntropy', () => {
  const x = r([3, 4], 1);
  const w = r([5, 4], 2);
  const loss = F.linearCrossEntropy(x, w, [-100, -100, -100]);
  assert.ok(Number.isNaN(loss.item()));
  loss.backward();
  assert.ok(x.grad!.data.every((v) => v === 0) && w.grad!.data.every((v) => v === 0));
});

test('linearCrossEntropy: a second backward over the same graph accumulates the same gradients again', () => {
  const x = r([4, 3], 5);
  const w = r([6, 3], 6);
  const loss = F.linearCrossEntropy(x, w, [0, 5, 2, 2], { chunkRows: 3 });
  loss.backward();
  const dx1 = x.grad!.data.slice();
  const dw1 = w.grad!.data.slice();
  loss.backward();
  assertClose(
    'dx twice',
    x.grad!.data,
    dx1.map((v) => 2 * v),
    1e-6,
    1e-6,
  );
  assertClose(
    'dw twice',
    w.grad!.data,
    dw1.map((v) => 2 * v),
    1e-6,
    1e-6,
  );
});

test('linearCrossEntropy: bad shapes and targets are clear errors', () => {
  assert.throws(
    () => F.linearCrossEntropy(r([2, 3], 1), r([4, 5], 2), [0, 1]),
    /x \[2, 3\] and weight \[4, 5\] must be/,
  );
  assert.throws(() => F.linearCrossEntropy(r([2, 3], 1), r([4, 3], 2), [0]), /has 2 rows but 1 targets/);
  assert.throws(
    () => F.linearCrossEntropy(r([2, 3], 1), r([4, 3], 2), [0, 4]),
    /index 4 at position 1 is out of range/,
  );
  assert.throws(
    () => F.linearCrossEntropy(r([2, 3], 1), r([4, 3], 2), [0, 1], { chunkRows: 0 }),
    /chunkRows must be a positive integer/,
  );
});

test('parity: linearCrossEntropy native vs reference', { skip: hasNative ? false : 'native addon not built' }, () => {
  for (const n of [1, 3, 17, 127]) {
    const ts = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? -100 : (i * 7) % 11));
    checkParity(
      [
        [n, 13],
        [11, 13],
      ],
      (x, w) => F.linearCrossEntropy(x!, w!, ts, { chunkRows: 16 }),
    );
  }
});

test('linearCrossEntropy scratch: at most 16 MB kept between calls; inside a step arena the chunk is arena storage, released when the op returns', () => {
  const ts = (N: number, V: number) => Array.from({ length: N }, (_, i) => (i * 7) % V);
  const x = r([4200, 4], 21);
  const w = r([1000, 4], 22, 0.5);
  // Outside an arena: a 4.2M-element chunk (16.8 MB) is a fresh array, not kept; a small one is kept for reuse.
  const small = F.linearCrossEntropy(x, w, ts(4200, 1000), { chunkRows: 100 }).item();
  const kept = linearCrossEntropyScratchBytes();
  assert.ok(kept >= 100 * 1000 * 4 && kept <= 16 * 2 ** 20, `kept ${kept} bytes`);
  const large = F.linearCrossEntropy(x, w, ts(4200, 1000)).item();
  assert.equal(linearCrossEntropyScratchBytes(), kept);
  assert.ok(Math.abs(large - small) < 1e-5 * Math.abs(small), `${large} vs ${small}`);
  // Inside an arena: the module scratch is untouched; a second call in the same run reuses the first call's chunk,
  // so it allocates exactly one chunk less than the first; the next run allocates nothing new.
  const arena = new StorageArena();
  const rows = 4200;
  arena.run(() => F.linearCrossEntropy(x, w, ts(4200, 1000)));
  const once = arena.stats.freshBytes;
  assert.ok(once >= rows * 1000 * 4, `${once} fresh bytes`);
  const two = new StorageArena();
  two.run(() => [F.linearCrossEntropy(x, w, ts(4200, 1000)), F.linearCrossEntropy(x, w, ts(4200, 1000))]);
  assert.equal(two.stats.freshBytes, 2 * once - rows * 1000 * 4);
  two.run(() => [F.linearCrossEntropy(x, w, ts(4200, 1000)), F.linearCrossEntropy(x, w, ts(4200, 1000))]);
  assert.equal(two.stats.freshBytes, 2 * once - rows * 1000 * 4);
  assert.equal(linearCrossEntropyScratchBytes(), kept);
});
