/**
 * Two figures the trainer prints, as a new user reads them: MFU is measured against the peak of the precision the
 * matmuls run in (bf16: twice the fp32 peak, so a bf16 run no longer shows about 2x its real utilization), and a
 * resumed run's final line says how many of its steps this session ran ("done: 4 steps (2 this session) in ...")
 * instead of pairing the whole run's step count with this session's time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../../src/models/create.ts';
import { Rng } from '../../src/tensor/random.ts';
import { flopsPerToken, mfu, mfuPeakGflops } from '../../src/train/metrics.ts';
import { train } from '../../src/train/trainer.ts';
import { corpus, fastConfig, runDir, tinyModel } from './helpers.ts';

test('mfuPeakGflops: bf16 matmuls are held to twice the fp32 peak', () => {
  assert.equal(mfuPeakGflops(460, 'fp32'), 460);
  assert.equal(mfuPeakGflops(460, 'bf16'), 920);
  assert.equal(mfu(1e6, 460e3, mfuPeakGflops(460, 'bf16')), 0.5);
});

test('a bf16 run logs MFU against the bf16 peak; a resumed run says which steps this session ran', async () => {
  const { tok, train: tr, val } = corpus();
  const out = runDir();
  const lines: string[] = [];
  const write = (t: string): void => {
    lines.push(t);
  };
  const config = fastConfig({ steps: 2, evalInterval: 0, logInterval: 1, precision: 'bf16', peakGflops: 100 });
  const model = createModel(tinyModel(tok.vocabSize), new Rng(1));
  const fpt = flopsPerToken(model, config.context);
  await train({ config, model, train: tr, val, out, tokenizer: tok, write });
  const rec = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { mfu?: number; tokens_per_s?: number; precision?: string })
    .find((r) => r.mfu !== undefined)!;
  assert.equal(rec.precision, 'bf16');
  const expected = (fpt * rec.tokens_per_s!) / 200e9;
  assert.ok(
    Math.abs(rec.mfu! - expected) <= expected * 0.01,
    `mfu ${rec.mfu} vs ${expected} (against 2 x 100 GFLOP/s)`,
  );
  assert.match(lines.join(''), /done: 2 steps in /);

  lines.length = 0;
  await train({ config: { ...config, steps: 4 }, train: tr, val, out, tokenizer: tok, resume: true, write });
  assert.match(lines.join(''), /done: 4 steps \(2 this session\) in /);
});
