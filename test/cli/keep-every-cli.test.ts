/**
 * `llmforge train --keep-every N --keep-last K` end to end: the kept snapshots under checkpoints/ (oldest pruned),
 * `llmforge eval facts --checkpoints` scoring them in step order, and a bad value as one error line naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { charPrepareArgs } from '../helpers/char-data.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('train --keep-every 2 --keep-last 2 keeps step-4 and step-6; eval facts --checkpoints scores them by step', () => {
  const dir = tempDir('keep-every-cli');
  const paragraphs = Array.from(
    { length: 40 },
    (_, i) => `the cat number ${i} sat on the mat and the dog sat on the log.`,
  );
  writeFileSync(join(dir, 'corpus.txt'), paragraphs.join('\n\n'));
  const data = join(dir, 'data');
  let r = cli(...charPrepareArgs(join(dir, 'corpus.txt'), data));
  assert.equal(r.status, 0, r.stderr);
  const out = join(dir, 'run');
  r = cli(
    'train',
    '--data',
    data,
    '--model',
    'char-tiny',
    '--set',
    'nLayer=1',
    'nEmbd=32',
    'nHead=2',
    'blockSize=16',
    '--batch',
    '4',
    '--eval-iters',
    '2',
    '--out',
    out,
    '--steps',
    '6',
    '--keep-every',
    '2',
    '--keep-last',
    '2',
    '--quiet',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(out, 'checkpoints')).sort(), ['best', 'latest', 'step-4', 'step-6']);

  // Probes the character tokenizer can encode (the default toy-world ones need capitals).
  const facts = join(dir, 'facts.json');
  writeFileSync(
    facts,
    JSON.stringify({ probes: [{ kind: 'place', prompt: 'the cat sat on the', answer: 'mat', heldOut: false }] }),
  );
  r = cli('eval', 'facts', '--model', out, '--checkpoints', '--facts', facts, '--json', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { rows: { label: string; step: number }[] }).rows;
  assert.deepEqual(
    rows.map((x) => `${x.label}:${x.step}`),
    ['step-4:4', 'best:6', 'latest:6', 'step-6:6'],
  );

  r = cli('train', '--data', data, '--model', 'char-tiny', '--out', join(dir, 'bad'), '--keep-every', '-2');
  assert.notEqual(r.status, 0);
  assert.equal(r.stderr.trim(), 'error: train config: keepEvery must be a non-negative integer, received -2');
});
