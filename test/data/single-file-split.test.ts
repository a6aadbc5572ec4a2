/**
 * A single text file (one document) prepared with the default split: whole-document hashing would hold out
 * nothing (an empty validation split that `train` then stops on), so prepareData holds out the tail of the
 * document instead, with a warning saying so; `--val-split document` asked for explicitly keeps whole documents
 * (and its warning). The CLI (`data prepare`) and the recipe `data` stage both go through prepareData.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMeta } from '../../src/data/meta.ts';
import { prepareData } from '../../src/data/prepare.ts';
import { Rng } from '../../src/tensor/random.ts';
import { randomDoc, tempDir } from './helpers.ts';

const TEXT = `${randomDoc(new Rng(7), 400)}\n`; // one document (no blank lines) that passes the cleaning filters

test('prepareData, default split, one document: the tail is held out, with a warning', async () => {
  const dir = tempDir('single');
  const input = join(dir, 'one.txt');
  writeFileSync(input, TEXT);
  const warnings: string[] = [];
  const r = await prepareData({
    sources: [{ name: 'one', path: input }],
    out: join(dir, 'o'),
    tokenizer: 'char',
    valFraction: 0.1,
    clean: { filters: false },
    warn: (m) => warnings.push(m),
  });
  const { train, val } = r.meta.splits;
  assert.ok(val.tokens > 0 && val.documents === 1, JSON.stringify(val));
  assert.equal(train.bytes + val.bytes, Buffer.byteLength(TEXT.trimEnd()));
  assert.equal(r.meta.options.valSplit, 'tail');
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /whole documents cannot be split into training and validation here \(1 kept document at --val-fraction 0\.1\), so the last 0\.1 of each document is held out instead \(--val-split tail\)/,
  );

  const explicit: string[] = [];
  const d = await prepareData({
    sources: [{ name: 'one', path: input }],
    out: join(dir, 'd'),
    tokenizer: 'char',
    valFraction: 0.1,
    valSplit: 'document',
    clean: { filters: false },
    warn: (m) => explicit.push(m),
  });
  assert.equal(d.meta.splits.val.tokens, 0, 'asked for whole documents: none held out');
  assert.equal(d.meta.options.valSplit, 'document');
  assert.match(explicit.join('\n'), /no document fell into the validation split/);
});

test('data prepare on a single file writes a non-empty validation split (exit 0, one warning)', () => {
  const dir = tempDir('single-cli');
  const input = join(dir, 'mine.txt');
  writeFileSync(input, TEXT);
  const out = join(dir, 'data');
  const r = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'data', 'prepare', '--input', input, '--tokenizer', 'char', '--out', out, '--quiet'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: whole documents cannot be split into training and validation here/m);
  const meta = readMeta(out);
  assert.ok(meta.splits.val.tokens > 0);
  assert.ok(meta.splits.train.tokens > meta.splits.val.tokens);
});
