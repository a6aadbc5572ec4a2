/**
 * Training cost arithmetic: GPT-3 (175B parameters, 300B tokens) needs about 3.15e23 FLOPs and lands in the
 * few-million-dollar range on V100s at 30% MFU; hours, wall time, cost and memory follow from the stated
 * assumptions; a known shape adds the attention term; bad inputs are clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BYTES_PER_PARAM, estimateTraining, HARDWARE } from '../../src/models/cost.ts';
import { flopsPerToken } from '../../src/models/flops.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';

test('GPT-3: about 3.15e23 FLOPs and a few million dollars', () => {
  const e = estimateTraining({ params: 175e9, tokens: 300e9, hardware: 'v100', mfu: 0.3 });
  assert.ok(Math.abs(e.flops / 3.15e23 - 1) < 0.05, `flops ${e.flops}`);
  assert.ok(e.cost >= 1e6 && e.cost <= 2e7, `cost ${e.cost}`);
  assert.equal(e.format, 'fp16');
  assert.equal(e.deviceHours, e.flops / (0.3 * 125e12) / 3600);
  assert.equal(e.cost, e.deviceHours * HARDWARE.v100!.pricePerHour);
  for (const hw of ['a100']) {
    const c = estimateTraining({ params: 175e9, tokens: 300e9, hardware: hw }).cost;
    assert.ok(c >= 1e6 && c <= 2e7, `${hw} cost ${c}`);
  }
});

test('devices, price and memory follow the stated assumptions', () => {
  const e = estimateTraining({
    params: 175e9,
    tokens: 300e9,
    hardware: 'a100',
    mfu: 0.5,
    devices: 1024,
    pricePerHour: 1,
  });
  assert.equal(e.stateBytes, BYTES_PER_PARAM * 175e9);
  assert.equal(e.devicesToHold, Math.ceil((16 * 175e9) / (80 * 1024 ** 3)));
  assert.ok(Math.abs(e.wallSeconds / ((e.deviceHours * 3600) / 1024) - 1) < 1e-12);
  assert.equal(e.cost, e.deviceHours);
  assert.equal(e.achieved, 0.5 * 312e12);
  assert.equal(estimateTraining({ params: 1e9, tokens: 1e9, hardware: 'h100' }).devices, 1);
  const cpu = estimateTraining({ params: 1e6, tokens: 1e6, hardware: 'cpu' });
  assert.equal(cpu.precision, 'fp32');
  assert.equal(cpu.peak, 0.46e12);
});

test('a known shape adds 12*L*T*C per token to 6N', () => {
  const cfg = resolveModelConfig('gpt2-124m');
  const f = flopsPerToken(cfg);
  const e = estimateTraining({ params: 124_439_808, tokens: 1e9, hardware: 'a100', flopsPerToken: f.training });
  assert.equal(e.flops, f.training * 1e9);
  assert.ok(e.flops > 6 * 123_614_976 * 1e9);
  assert.match(e.flopsFormula, /12 x L x T x C/);
});

test('invalid inputs are errors naming the value', () => {
  assert.throws(
    () => estimateTraining({ params: 1e9, tokens: 1e9, hardware: 'tpu' }),
    /unknown hardware "tpu" \(expected v100, a100, h100, cpu\)/,
  );
  assert.throws(
    () => estimateTraining({ params: 1e9, tokens: 1e9, hardware: 'a100', mfu: 1.5 }),
    /MFU must be in \(0, 1\], received 1\.5/,
  );
  assert.throws(
    () => estimateTraining({ params: -1, tokens: 1e9, hardware: 'a100' }),
    /parameters must be a positive number, received -1/,
  );
  assert.throws(
    () => estimateTraining({ params: 1e9, tokens: 1e9, hardware: 'a100', devices: 2.5 }),
    /device count must be a positive integer, received 2\.5/,
  );
});
