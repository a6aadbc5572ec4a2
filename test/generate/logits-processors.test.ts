/**
 * Logits processors on hand-checked rows: CTRL repetition penalty signs, temperature, top-k and top-p boundaries
 * (ties towards the lower id, at least one token kept), and the float32-faithful softmax (no overflow, exact zeros
 * for filtered tokens, each value the float32 rounding of the float64 softmax), OpenAI's frequency and presence
 * penalties, and the log-softmax behind API logprobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyFrequencyPresencePenalty,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  logSoftmaxRow,
  softmaxRow,
  topIndices,
} from '../../src/generate/logits-processors.ts';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

test('repetition penalty divides positive and multiplies negative logits of seen tokens, once each', () => {
  const row = f32([2, -2, 1, 0, 3]);
  applyRepetitionPenalty(row, [0, 1, 0, 3, 1], 2);
  assert.deepEqual(Array.from(row), [1, -4, 1, 0, 3]);
  const same = f32([2, -2]);
  applyRepetitionPenalty(same, [0, 1], 1);
  assert.deepEqual(Array.from(same), [2, -2]);
});

test('frequency/presence penalty: logit -= count * frequency + presence, for generated ids only', () => {
  const row = f32([2, -2, 1, 0, 3]);
  applyFrequencyPresencePenalty(
    row,
    new Map([
      [0, 2],
      [3, 1],
      [9, 4], // out of range: ignored
    ]),
    0.5,
    0.25,
  );
  assert.deepEqual(Array.from(row), [2 - (2 * 0.5 + 0.25), -2, 1, 0 - (0.5 + 0.25), 3]);
  const neg = f32([1, 1]);
  applyFrequencyPresencePenalty(neg, new Map([[1, 3]]), -0.5, -1);
  assert.deepEqual(Array.from(neg), [1, 1 + 1.5 + 1]);
  const off = f32([1, 2]);
  applyFrequencyPresencePenalty(off, new Map([[1, 3]]), 0, 0);
  assert.deepEqual(Array.from(off), [1, 2]);
});

test('logSoftmaxRow: log of the softmax, exp sums to 1, -Infinity stays -Infinity', () => {
  const row = f32([1, 2, 3, -Infinity]);
  const lp = logSoftmaxRow(row);
  const p = softmaxRow(row);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(Math.exp(lp[i]!) - p[i]!) < 1e-7);
  assert.equal(lp[3], -Infinity);
  assert.ok(Math.abs(Array.from(lp).reduce((a, x) => a + Math.exp(x), 0) - 1) < 1e-12);
  assert.ok(Math.abs(logSoftmaxRow(f32([1000, 0]))[1]! + 1000) < 1e-9); // no overflow
  assert.throws(() => logSoftmaxRow(f32([-Infinity])), RangeError);
});

test('temperature divides every logit', () => {
  const row = f32([2, -4, 1]);
  applyTemperature(row, 2);
  assert.deepEqual(Array.from(row), [1, -2, 0.5]);
});

test('topIndices: largest first, ties towards the lower index', () => {
  assert.deepEqual(Array.from(topIndices(f32([1, 3, 3, 2]), 2)), [1, 2]);
  assert.deepEqual(Array.from(topIndices(f32([1, 3, 3, 2]), 3)), [1, 2, 3]);
  assert.deepEqual(Array.from(topIndices(f32([5, 2, 2, 2]), 2)), [0, 1]);
  assert.deepEqual(Array.from(topIndices(f32([0.1, 0.7, 0.2]), 5)), [1, 2, 0]);
  assert.deepEqual(Array.from(topIndices(f32([-1, -Infinity, 4]), 3)), [2, 0, 1]);
});

test('top-k keeps exactly k logits and masks the rest with -Infinity', () => {
  const row = f32([1, 3, 3, 2, 0]);
  applyTopK(row, 2);
  assert.deepEqual(Array.from(row), [-Infinity, 3, 3, -Infinity, -Infinity]);
  const tie = f32([2, 2, 2]);
  applyTopK(tie, 1);
  assert.deepEqual(Array.from(tie), [2, -Infinity, -Infinity]);
  const off = f32([1, 2]);
  applyTopK(off, 0);
  applyTopK(off, 5);
  assert.deepEqual(Array.from(off), [1, 2]);
});

test('softmax: float32 rounding of the exact softmax, stable for large logits, zeros for -Infinity', () => {
  const logits = [0.5, -1.25, 3, 2.75, -Infinity];
  const p = softmaxRow(f32(logits));
  const m = 3;
  const e = logits.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  assert.deepEqual(
    Array.from(p),
    e.map((v) => Math.fround(v / s)),
  );
  assert.equal(p[4], 0);
  const big = softmaxRow(f32([1000, 999, -1000]));
  assert.ok(Math.abs(big[0]! - 1 / (1 + Math.exp(-1))) < 1e-7);
  assert.equal(big[2], 0);
  assert.ok(Array.from(big).every(Number.isFinite));
  assert.deepEqual(Array.from(softmaxRow(f32([Infinity, 0, Infinity]))), [0.5, 0, 0.5]);
  assert.throws(() => softmaxRow(f32([-Infinity, -Infinity])), /every logit is -Infinity/);
});

test('top-p keeps the smallest set reaching p (at least one token) and renormalizes', () => {
  const probs = (): Float32Array => f32([0.2, 0.5, 0.3]);
  const a = probs();
  applyTopP(a, 0.5);
  assert.deepEqual(Array.from(a), [0, 1, 0]);
  const b = probs();
  applyTopP(b, 0.6);
  assert.deepEqual(
    Array.from(b),
    [
      0,
      Math.fround(0.5) / (Math.fround(0.5) + Math.fround(0.3)),
      Math.fround(0.3) / (Math.fround(0.5) + Math.fround(0.3)),
    ].map(Math.fround),
  );
  const c = probs();
  applyTopP(c, 0.01);
  assert.deepEqual(Array.from(c), [0, 1, 0]);
  const d = probs();
  applyTopP(d, 0.95);
  assert.deepEqual(
    Array.from(d),
    Array.from(probs()).map((x) => Math.fround(x / (Math.fround(0.2) + Math.fround(0.5) + Math.fround(0.3)))),
  );
  const ties = f32([0.25, 0.25, 0.25, 0.25]);
  applyTopP(ties, 0.5);
  assert.deepEqual(Array.from(ties), [0.5, 0.5, 0, 0]);
  const all = probs();
  applyTopP(all, 1);
  assert.deepEqual(all, probs());
});
