/**
 * A 10,000-step training loop of a small model must hold a flat resident set size: tensor storage is ordinary
 * typed-array memory that V8 accounts for and frees, and nothing is retained across steps (graph, grads,
 * optimizer state). No timing is measured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('RSS stays flat over a 10,000-step training loop', () => {
  const script = fileURLToPath(new URL('./memory-loop.ts', import.meta.url));
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, '10000'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const samples = JSON.parse(res.stdout.trim().split('\n').pop()!) as { step: number; rssMb: number; loss: number }[];
  process.stdout.write(`RSS by step: ${samples.map((s) => `${s.step}: ${s.rssMb.toFixed(1)} MB`).join(', ')}\n`);
  assert.equal(samples.length, 5);
  const growth = samples[4]!.rssMb - samples[1]!.rssMb;
  assert.ok(growth < 25, `RSS grew by ${growth.toFixed(1)} MB between step ${samples[1]!.step} and ${samples[4]!.step}`);
  assert.ok(samples[4]!.loss < samples[0]!.loss, 'the model should learn the shift-by-one mapping');
});
