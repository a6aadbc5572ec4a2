/**
 * `--precision` on the command line: `llmforge train` runs and names its precision, a resume keeps the checkpoint's
 * precision unless told otherwise (then notes the change), and bad values in train, finetune and bench train are
 * one-line errors naming the flag, the allowed values and what was received.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { charPrepareArgs } from '../helpers/char-data.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, LLMFORGE_MATMUL: '' },
  });
}

const tiny = [
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
  '--eval-interval',
  '0',
  '--sample-tokens',
  '0',
];

test('train --precision bf16 runs in bf16; --resume keeps it; --resume --precision fp32 notes the change', () => {
  const dir = tempDir('precision-cli');
  writeFileSync(
    join(dir, 'corpus.txt'),
    Array.from({ length: 40 }, (_, i) => `paragraph ${i}: the cat sat on the mat and the dog sat on the log.`).join(
      '\n\n',
    ),
  );
  const data = join(dir, 'data');
  const prep = cli(...charPrepareArgs(join(dir, 'corpus.txt'), data));
  assert.equal(prep.status, 0, prep.stderr);
  const out = join(dir, 'run');
  const r = cli('train', '--data', data, ...tiny, '--out', out, '--steps', '3', '--precision', 'bf16');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^training: .*, bf16 matmuls$/m);
  assert.match(r.stdout, /^ {2}precision +"bf16"$/m); // in the printed config
  const state = (): { precision: string } =>
    JSON.parse(readFileSync(join(out, 'checkpoints', 'latest', 'state.json'), 'utf8')) as { precision: string };
  assert.equal(state().precision, 'bf16');

  const kept = cli('train', '--out', out, '--resume', '--steps', '4');
  assert.equal(kept.status, 0, kept.stderr);
  assert.match(kept.stdout, /^resuming from .*, bf16 matmuls$/m);
  assert.doesNotMatch(kept.stdout, /note:/);

  const changed = cli('train', '--out', out, '--resume', '--steps', '5', '--precision', 'fp32');
  assert.equal(changed.status, 0, changed.stderr);
  assert.match(changed.stdout, /^note: the checkpoint was trained with bf16 matmuls; resuming with fp32 matmuls/m);
  assert.equal(state().precision, 'fp32');
});

test('bad --precision values are one-line errors (train, finetune, bench train)', () => {
  for (const [args, prefix] of [
    [
      ['train', '--data', 'nowhere', '--out', 'nowhere', '--model', 'char-tiny', '--precision', 'fp16'],
      'train: --precision',
    ],
    [
      ['finetune', 'classify', '--data', 'x.tsv', '--model', 'm', '--out', 'o', '--precision', 'half'],
      'finetune classify: --precision',
    ],
    [['bench', 'train', '--config', 'T1', '--precision', 'int8'], 'bench train: --precision'],
  ] as const) {
    const r = cli(...args);
    assert.equal(r.status, 2, r.stdout); // a usage error
    const received = args[args.length - 1];
    assert.equal(r.stderr, `error: ${prefix}: expected one of auto, fp32, bf16, received "${received}"\n`);
  }
});

test('--help of train, finetune and bench documents --precision', () => {
  for (const cmd of ['train', 'finetune', 'bench']) {
    const r = cli(cmd, '--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--precision/, cmd);
  }
});
