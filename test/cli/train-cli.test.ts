/**
 * `llmforge train` end to end on a small prepared dataset: a run with samples and checkpoints, Ctrl-C (SIGINT)
 * saving a checkpoint and exiting 130 with resume instructions, --resume finishing the run, and user mistakes
 * as one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { charPrepareArgs } from '../helpers/char-data.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

function prepared(): { dir: string; data: string } {
  const dir = tempDir('train-cli');
  const paragraphs = Array.from(
    { length: 60 },
    (_, i) => `the cat number ${i} sat on the mat and the dog sat on the log.`,
  );
  writeFileSync(join(dir, 'corpus.txt'), paragraphs.join('\n\n'));
  const data = join(dir, 'data');
  const r = cli(...charPrepareArgs(join(dir, 'corpus.txt'), data));
  assert.equal(r.status, 0, r.stderr);
  return { dir, data };
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
];

test('train: a short run prints the config, evaluations with samples, and saves checkpoints', () => {
  const { dir, data } = prepared();
  const out = join(dir, 'run');
  const r = cli(
    'train',
    '--data',
    data,
    ...tiny,
    '--out',
    out,
    '--steps',
    '6',
    '--eval-interval',
    '3',
    '--log-interval',
    '3',
    '--sample-prompt',
    'the ',
    '--sample-tokens',
    '5',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /config:\n {2}steps +6\n/);
  assert.match(r.stdout, /eval step 3\/6: val loss \d+\.\d+ \| ppl \d+\.\d+ \| \d+\.\d+ bits\/byte/);
  assert.match(r.stdout, /sample: "the .{5}"/);
  assert.match(r.stdout, /step 6\/6 \| loss \d+\.\d+ \| lr .* tok\/s \| MFU \d+\.\d% \| ETA/);
  const state = JSON.parse(readFileSync(join(out, 'checkpoints', 'latest', 'state.json'), 'utf8')) as {
    step: number;
    config: { steps: number };
    run: { data: string };
  };
  assert.equal(state.step, 6);
  assert.equal(state.run.data, data);
  const help = cli('train', '--help');
  assert.match(help.stdout, /--resume/);
});

test('train: Ctrl-C saves a checkpoint and exits 130; --resume finishes the run', async () => {
  const { dir, data } = prepared();
  const out = join(dir, 'run');
  const child = spawn(
    process.execPath,
    [
      'bin/llmforge.js',
      'train',
      '--data',
      data,
      ...tiny,
      '--out',
      out,
      '--steps',
      '100000',
      '--log-interval',
      '1',
      '--eval-interval',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!sent && /step 5\/100000/.test(stdout)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 130, `stdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr}`);
  const m =
    /stopped at step (\d+)\/100000; checkpoint saved to (.*)\nresume with: llmforge train --out (.*) --resume\n/.exec(
      stdout,
    );
  assert.ok(m, stdout.slice(-1000));
  const step = Number(m[1]);
  assert.equal(m[2], join(out, 'checkpoints', 'latest'));
  assert.equal(m[3], out);
  const state = JSON.parse(readFileSync(join(out, 'checkpoints', 'latest', 'state.json'), 'utf8')) as { step: number };
  assert.equal(state.step, step);

  const r = cli('train', '--out', out, '--resume', '--steps', String(step + 2), '--quiet');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`trained to step ${step + 2}: val loss`));
});

test('train: mistakes are one-line errors', () => {
  const { dir, data } = prepared();
  const noModel = cli('train', '--data', data, '--out', join(dir, 'x'));
  assert.equal(noModel.status, 2);
  assert.match(noModel.stderr, /^error: train: --model <preset> is required/);
  const badKey = cli('train', '--data', data, ...tiny, '--out', join(dir, 'x'), 'nLayers=3');
  assert.equal(badKey.status, 2);
  assert.match(badKey.stderr, /^error: train: --set nLayers=3: "nLayers" is neither a model field/);
  const noCkpt = cli('train', '--out', join(dir, 'nothing'), '--resume');
  assert.equal(noCkpt.status, 2);
  assert.match(noCkpt.stderr, /^error: train: .*nothing\/checkpoints\/latest: no checkpoint to resume from/);
  const badData = cli('train', '--data', join(dir, 'nope'), ...tiny, '--out', join(dir, 'x'));
  assert.equal(badData.status, 2);
  assert.match(badData.stderr, /^error: .*nope\/meta\.json: not found/);
  for (const r of [noModel, badKey, noCkpt, badData]) assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});
