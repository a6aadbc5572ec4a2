/**
 * `permutation(n, seed)`: every index exactly once, the same order for the same seed, a different one for another
 * seed, and the degenerate sizes 0 and 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { permutation } from '../../src/tensor/random.ts';

test('permutation: each index once, fixed by the seed', () => {
  const a = permutation(100, 7);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(permutation(100, 7), a);
  assert.notDeepEqual(permutation(100, 8), a);
  assert.notDeepEqual(
    a,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(permutation(0, 1), []);
  assert.deepEqual(permutation(1, 1), [0]);
});
