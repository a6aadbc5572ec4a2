/**
 * `llmforge data prepare` and `data inspect` end to end on a tiny temporary corpus (a .txt file and a gzipped
 * .jsonl mixed by weight), plus one-line user errors and --help.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TokenDataset } from '../../src/data/dataset.ts';
import { readMeta } from '../../src/data/meta.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

const STORY = [
  'The fox ran over the hill and into the green wood.',
  'A small bird sang on the branch of an old oak tree.',
  'Rain fell on the village all night, and the river rose.',
  'The baker woke early and lit the oven before dawn.',
  'Two children built a boat of sticks and sailed it down the stream.',
  'Contact the mayor at mayor@village.example for details.',
];

test('data prepare --input (txt + jsonl.gz) with --train-tokenizer, then data inspect', () => {
  const dir = tempDir('data-cli');
  writeFileSync(join(dir, 'story.txt'), `${STORY.join('\n\n')}\n\n${STORY[0]}\n`);
  writeFileSync(
    join(dir, 'web.jsonl.gz'),
    gzipSync(STORY.map((s, i) => JSON.stringify({ body: `${s} Page ${i}.` })).join('\n')),
  );
  const out = join(dir, 'ds');
  const r = cli(
    'data',
    'prepare',
    '--input',
    `${join(dir, 'story.txt')},${join(dir, 'web.jsonl.gz')}`,
    '--paragraphs',
    '--input-field',
    'body',
    '--train-tokenizer',
    '300',
    '--val-fraction',
    '0.2',
    '--no-near-dedup',
    '--pii',
    '--out',
    out,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /cleaning .*\(100%\)/, 'a progress line');
  assert.match(
    r.stdout,
    /^cleaning: 13 documents read, 12 kept, 1 dropped\n {2}dropped duplicate +1\n {2}pii replaced: email 2\n/,
  );
  assert.match(r.stdout, /\ntrain: \d+ tokens, \d+ bytes \([\d.]+ bytes\/token\), \d+ documents, 1 shard\(s\)\n/);
  assert.match(r.stdout, /\nwrote .*ds in [\d.]+ s\n$/);
  const meta = readMeta(out);
  assert.equal(meta.splits.train.documents + meta.splits.val.documents, 12);
  assert.equal(meta.cleaning.pii.email, 2);
  const ds = TokenDataset.open(out, 'train');
  assert.equal(ds.numTokens, meta.splits.train.tokens);
  ds.close();
  const ins = cli('data', 'inspect', out, '--tokens', '8');
  assert.equal(ins.status, 0, ins.stderr);
  assert.match(ins.stdout, /llmforge-tokens v1, tokenizer in .*tokenizer\n/);
  assert.match(ins.stdout, /\nfirst 8 train tokens: (\d+ ){7}\d+\ndecoded: ".+"\n/);
});

test('data prepare --mix: weights from the file, unknown keys and bad input are one-line errors', () => {
  const dir = tempDir('data-cli');
  writeFileSync(join(dir, 'a.txt'), STORY.slice(0, 3).join('\n\n'));
  writeFileSync(join(dir, 'b.txt'), STORY.slice(3).join('\n\n'));
  const mix = join(dir, 'mix.json');
  writeFileSync(
    mix,
    JSON.stringify({
      sources: [
        { name: 'a', path: join(dir, 'a.txt'), weight: 3, paragraphs: true },
        { name: 'b', path: join(dir, 'b.txt'), weight: 1, paragraphs: true },
      ],
      val_fraction: 0,
      seed: 4,
    }),
  );
  const r = cli('data', 'prepare', '--mix', mix, '--tokenizer', 'char', '--quiet', '--out', join(dir, 'ds'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /\n {2}a +3\/3 +0\.75 /);
  const meta = readMeta(join(dir, 'ds'));
  assert.ok(meta.sources[0]!.share > 0.6 && meta.sources[0]!.share < 0.9, `share of a: ${meta.sources[0]!.share}`);
  assert.equal(meta.options.seed, 4);

  writeFileSync(mix, JSON.stringify({ sources: [{ path: 'x', weigth: 1 }] }));
  const bad = cli('data', 'prepare', '--mix', mix, '--tokenizer', 'char', '--out', join(dir, 'ds2'));
  assert.equal(bad.status, 2);
  assert.equal(
    bad.stderr,
    `error: ${mix}: sources[0]: unknown key "weigth" (expected one of: name, path, field, weight, paragraphs)\n`,
  );
  const jl = join(dir, 'x.jsonl');
  writeFileSync(jl, '{"text":"fine words here"}\n{"txt":"oops"}\n');
  const field = cli('data', 'prepare', '--input', jl, '--tokenizer', 'char', '--out', join(dir, 'ds3'));
  assert.equal(
    field.stderr.trim().split('\n').at(-1),
    `error: ${jl}:2: no field "text" (the object has: txt); choose one with --input-field`,
  );
  const none = cli('data', 'prepare', '--tokenizer', 'char', '--out', join(dir, 'ds4'));
  assert.match(none.stderr, /^error: data prepare: give --input/);
  const help = cli('data', '--help');
  assert.match(help.stdout, /Usage: llmforge data prepare/);
  assert.match(help.stdout, /--near-dup-threshold F/);
});
