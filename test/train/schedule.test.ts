/**
 * The learning-rate schedule: warmup, cosine and constant values against the formulas written out by hand,
 * nanoGPT's (warmup + 1) ramp, and the charlm PyTorch reference's `lr_at` (ramp over warmup) update by update.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrAt, type LrSchedule } from '../../src/train/schedule.ts';

const nano: LrSchedule = { kind: 'cosine', lr: 6e-4, minLr: 6e-5, warmup: 10, decaySteps: 110 };

test('nanoGPT get_lr: warmup over warmup + 1, cosine to minLr, minLr after decaySteps', () => {
  assert.equal(lrAt(0, nano), (6e-4 * 1) / 11);
  assert.equal(lrAt(9, nano), (6e-4 * 10) / 11);
  assert.equal(lrAt(10, nano), 6e-4); // cosine start: ratio 0
  assert.ok(Math.abs(lrAt(60, nano) - (6e-5 + 0.5 * (6e-4 - 6e-5))) < 1e-15); // halfway
  assert.ok(Math.abs(lrAt(110, nano) - 6e-5) < 1e-18);
  assert.equal(lrAt(500, nano), 6e-5);
  for (let it = 10; it < 110; it++) assert.ok(lrAt(it + 1, nano) <= lrAt(it, nano), `monotone decay at ${it}`);
});

test('charlm reference lr_at (ramp over warmup, cosine over iters - warmup) matches update by update', () => {
  const iters = 2000,
    warm = 100,
    lr0 = 1e-3,
    lrmin = 1e-4;
  const ref = (it: number): number => {
    if (it < warm) return (lr0 * (it + 1)) / warm;
    const r = Math.min(1, (it - warm) / Math.max(1, iters - warm));
    return lrmin + 0.5 * (1 + Math.cos(Math.PI * r)) * (lr0 - lrmin);
  };
  const s: LrSchedule = {
    kind: 'cosine',
    lr: lr0,
    minLr: lrmin,
    warmup: warm,
    decaySteps: iters,
    warmupDivisor: 'warmup',
  };
  for (let it = 0; it < iters; it++) assert.equal(lrAt(it, s), ref(it), `iteration ${it}`);
  assert.equal(lrAt(99, s), 1e-3);
});

test('constant schedule keeps lr after warmup; no warmup starts at lr', () => {
  const s: LrSchedule = { kind: 'constant', lr: 3e-4, minLr: 0, warmup: 4, decaySteps: 10 };
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => lrAt(i, s)),
    [3e-4 / 5, (3e-4 * 2) / 5, (3e-4 * 3) / 5, (3e-4 * 4) / 5],
  );
  assert.equal(lrAt(4, s), 3e-4);
  assert.equal(lrAt(1000, s), 3e-4);
  assert.equal(lrAt(0, { ...nano, warmup: 0 }), 6e-4);
});
