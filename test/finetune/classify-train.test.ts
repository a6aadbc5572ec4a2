/**
 * A tiny end-to-end classification fine-tune on 400 synthetic SMS messages (test/helpers/tiny-sms.ts; the real SMS
 * Spam Collection is the data suite's) from a small random char-level GPT: it must
 * beat the majority-class baseline on the test split, write metrics and checkpoints, and a run stopped part-way
 * and resumed must end with the same weights, optimizer state and metrics as an uninterrupted one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainClassifier, type ClassifyTrainOptions } from '../../src/finetune/classify-train.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';

/** 400 messages (100 spam among 1,200 synthetic lines plus ham to fill), cut to 120 characters, and a random base. */
export function tinySetup(): { dir: string; data: string; base: string } {
  const lines = syntheticSms(1200, 1);
  const spam = lines.filter((l) => l.startsWith('spam\t')).slice(0, 100);
  const ham = lines.filter((l) => l.startsWith('ham\t')).slice(0, 400 - spam.length);
  const chosen = [...ham, ...spam].map((l) => l.slice(0, 120));
  const dir = tempDir('classify');
  const data = join(dir, 'sms.tsv');
  writeFileSync(data, chosen.join('\n'));
  const chars = [...new Set([...chosen.join('')])].sort();
  const base = join(dir, 'base');
  const cfg = resolveModelConfig({
    arch: 'gpt2',
    vocabSize: chars.length + 1,
    blockSize: 48,
    nLayer: 1,
    nHead: 2,
    nEmbd: 32,
    dropout: 0,
  });
  saveModel(base, createModel(cfg, new Rng(5)));
  saveTextTokenizer(base, new CharTokenizer(['\u0000', ...chars.filter((c) => c !== '\u0000')]));
  return { dir, data, base };
}

const opts = (data: string, base: string, out: string): ClassifyTrainOptions => ({
  data,
  base,
  out,
  mode: 'all',
  lastK: 1,
  pooling: 'mean',
  maxLength: 48,
  balance: 'weights',
  valFrac: 0.1,
  testFrac: 0.25,
  epochs: 4,
  batchSize: 16,
  lr: 3e-3,
  weightDecay: 0,
  seed: 7,
  resume: false,
  quiet: true,
  log: () => {},
});

test('a tiny run beats the majority-class baseline and writes metrics and checkpoints', async () => {
  const { dir, data, base } = tinySetup();
  const out = join(dir, 'run');
  const r = await trainClassifier(opts(data, base, out));
  const test = r.test!;
  const majority = Math.max(...test.perClass.map((c) => c.support)) / test.n;
  assert.ok(test.accuracy > majority + 0.03, `test accuracy ${test.accuracy} vs majority baseline ${majority}`);
  assert.ok(test.perClass.find((c) => c.label === 'spam')!.f1 > 0.3);
  const recs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(recs.filter((x) => 'val_accuracy' in x).length, 4, 'one validation record per epoch');
  assert.equal(typeof recs.at(-1)!.test_f1_spam, 'number');
  assert.match(String(recs.at(-1)!.test_confusion), /^\[\[\d+,\d+\],\[\d+,\d+\]\]$/);
});

test('stopping part-way and resuming ends with the same weights as one uninterrupted run', async () => {
  const { dir, data, base } = tinySetup();
  const o = { ...opts(data, base, join(dir, 'a')), epochs: 2 };
  await trainClassifier(o);
  const b = { ...o, out: join(dir, 'b') };
  const first = await trainClassifier({ ...b, maxSteps: 7 });
  assert.equal(first.steps, 7);
  const second = await trainClassifier({ ...b, resume: true });
  assert.ok(second.steps > 7);
  const head = (d: string) =>
    readSafetensors(join(d, 'checkpoints', 'latest', 'classifier-head.safetensors')).tensors.get('score.weight')!.data;
  assert.deepEqual(head(b.out), head(o.out));
  for (const f of [
    'checkpoints/latest/model.safetensors',
    'checkpoints/latest/optimizer.safetensors',
    'checkpoints/best/model.safetensors',
  ]) {
    assert.ok(readFileSync(join(b.out, f)).equals(readFileSync(join(o.out, f))), `${f} differs`);
  }
  const records = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8');
  assert.equal(records(b.out), records(o.out)); // the epoch's train loss averages steps from before and after the stop
});
