/**
 * recipes/own-text.yaml, "your own text", run as a new user would (`llmforge run recipes/own-text.yaml --set
 * text=<file>`) on a small text file with tiny settings: it trains a tokenizer on the file, prepares it with a
 * non-empty validation split (the tail of the single document), pretrains a model and shows samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';

const SENTENCES = [
  'The river ran past the old mill and into the valley.',
  'A fox watched the hens from behind the stone wall.',
  'In the morning the baker lit the oven and sang.',
  'Rain fell on the roofs of the quiet town all night.',
  'The children counted the boats that sailed by the harbour.',
];

test('own-text recipe: tokenizer, data with a validation tail, pretraining and samples from one text file', () => {
  const dir = tempDir('own-text');
  const text = join(dir, 'mine.txt');
  writeFileSync(text, `${Array.from({ length: 40 }, (_, i) => SENTENCES[(i * 3) % 5]).join(' ')}\n`);
  const out = join(dir, 'run');
  const r = spawnSync(
    process.execPath,
    [
      'bin/llmforge.js',
      'run',
      'recipes/own-text.yaml',
      '--set',
      `text=${text}`,
      `out=${out}`,
      'vocab=300',
      'context=32',
      'steps=4',
      'stages.model.config.nLayer=1',
      'stages.model.config.nEmbd=32',
      'stages.model.config.nHead=2',
      'stages.pretrain.batchSize=4',
      'stages.pretrain.evalInterval=2',
      'stages.pretrain.evalIters=1',
      'stages.pretrain.warmup=1',
      'stages.sample.maxTokens=6',
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  for (const s of ['tokenizer', 'data', 'model', 'pretrain', 'sample']) {
    assert.match(r.stdout, new RegExp(`== ${s} \\(`));
    assert.ok(existsSync(join(out, s, '.complete')), s);
  }
  const meta = JSON.parse(readFileSync(join(out, 'data', 'meta.json'), 'utf8')) as {
    splits: { train: { tokens: number }; val: { tokens: number } };
    options: { valSplit: string };
  };
  assert.ok(meta.splits.val.tokens > 0, 'a validation split from the one document');
  assert.equal(meta.options.valSplit, 'tail');
  const samples = JSON.parse(readFileSync(join(out, 'sample', 'samples.json'), 'utf8')) as unknown[];
  assert.ok(Array.isArray(samples) || typeof samples === 'object');
  assert.match(r.stdout, /"The"/, 'the samples are shown');
});
