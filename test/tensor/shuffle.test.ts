/**
 * The one seeded shuffle: shuffleInPlace gives exactly the order of the Fisher-Yates loops it replaced (from the
 * end, j = floor(random() * (i + 1)), i.e. rng.int(i + 1)), on arrays and typed arrays, consumes n - 1 draws, and
 * permutation and shuffled are built on it; a pinned order guards recorded splits against a silent change.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { permutation, Rng, shuffled, shuffleInPlace } from '../../src/tensor/random.ts';

/** permutation(10, 7) as computed before shuffleInPlace existed. */
const PINNED = [7, 6, 0, 1, 9, 5, 3, 8, 4, 2];

/** The loop as it was written inline before (align/dpo-train, finetune/sft-train). */
function oldLoop<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

test('shuffleInPlace: the same order and the same RNG stream as the inline loops', () => {
  for (const n of [0, 1, 2, 3, 10, 257]) {
    const r1 = new Rng(n + 5);
    const r2 = new Rng(n + 5);
    const items = Array.from({ length: n }, (_, i) => `x${i}`);
    const a = [...items];
    assert.equal(shuffleInPlace(a, r1), a, 'returns its argument');
    assert.deepEqual(a, oldLoop([...items], r2));
    assert.equal(r1.nextUint32(), r2.nextUint32(), 'both consumed the same draws');
    const u = Uint32Array.from(items.keys());
    shuffleInPlace(u, new Rng(n + 5));
    assert.deepEqual(
      Array.from(u),
      a.map((x) => Number(x.slice(1))),
    );
  }
});

test('shuffled copies; permutation is a shuffle of 0..n-1 with a fresh Rng; the order is pinned', () => {
  const items = Object.freeze(['a', 'b', 'c', 'd', 'e', 'f']);
  const out = shuffled(items, new Rng(3));
  assert.deepEqual(out, shuffleInPlace([...items], new Rng(3)));
  assert.deepEqual(items, ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(
    permutation(50, 9),
    shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      new Rng(9),
    ),
  );
  assert.deepEqual(permutation(10, 7), PINNED);
});
