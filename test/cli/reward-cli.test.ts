/**
 * `llmforge reward train` and `llmforge reward score` end to end on the synthetic polite/rude preference set with a
 * tiny random char-level base: training reports held-out pairwise accuracy, `score --prompt --response` prints one
 * reward, `--input` of a preference file writes both rewards and the winner per pair in order, of an instruction
 * file one reward per record; mistakes are one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyPreferenceSetup } from '../helpers/tiny-preferences.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

function oneLineError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

test('reward train, then score one response, a preference file and an instruction file', () => {
  const dir = tempDir('reward-cli');
  const { data, base, records } = tinyPreferenceSetup(dir, 96);
  const out = join(dir, 'run');
  const r = cli(
    'reward',
    'train',
    '--model',
    base,
    '--data',
    data,
    '--out',
    out,
    '--epochs',
    '2',
    '--lr',
    '3e-3',
    '--val-frac',
    '0.25',
    '--max-length',
    '64',
    '--precision',
    'fp32',
    '--quiet',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /data 96 pairs: train 72, held out 24; template chatml, max length 64 tokens/);
  assert.match(
    r.stdout,
    /step 18\/18: train loss \d\.\d{4} \| held out: loss \d\.\d{4} \| pairwise accuracy \d+\.\d\d% of 24 \| reward chosen -?\d\.\d{3}, rejected -?\d\.\d{3}, margin -?\d\.\d{3}/,
  );
  assert.match(r.stdout, /done: 18 steps; best held-out pairwise accuracy \d+\.\d\d%/);

  const one = cli(
    'reward',
    'score',
    '--model',
    out,
    '--prompt',
    'tell me about tea',
    '--response',
    'it is warm thanks',
  );
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^reward -?\d+\.\d{4}\n$/);

  const scored = join(dir, 'scored.jsonl');
  const s = cli('reward', 'score', '--model', out, '--input', data, '--output', scored);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /^scored 96 pairs: chosen wins \d+ \(\d+\.\d%\) into .*scored\.jsonl\n$/);
  const lines = readFileSync(scored, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number; chosen: number; rejected: number; chosen_wins: boolean });
  assert.equal(lines.length, 96);
  lines.forEach((l, i) => {
    assert.deepEqual(Object.keys(l), ['index', 'chosen', 'rejected', 'chosen_wins']);
    assert.equal(l.index, i);
    assert.equal(l.chosen_wins, l.chosen > l.rejected);
  });
  assert.ok(lines.filter((l) => l.chosen_wins).length >= 80, 'the trained preference holds on most pairs');

  // One instruction record scores as its prompt and response did with --prompt/--response.
  const instr = join(dir, 'instr.jsonl');
  writeFileSync(
    instr,
    [
      { instruction: 'tell me about tea', input: '', output: 'it is warm thanks' },
      { instruction: records[0]!.instruction, output: records[0]!.rejected },
    ]
      .map((x) => JSON.stringify(x))
      .join('\n'),
  );
  const i = cli('reward', 'score', '--model', out, '--input', instr);
  assert.equal(i.status, 0, i.stderr);
  const rows = i.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number; reward: number });
  assert.deepEqual(
    rows.map((x) => Object.keys(x)),
    [
      ['index', 'reward'],
      ['index', 'reward'],
    ],
  );
  assert.equal(rows[0]!.reward.toFixed(4), one.stdout.trim().split(' ')[1]);
  assert.match(i.stderr, /scored 2 records/);

  oneLineError(
    cli('reward', 'score', '--model', out, '--prompt', 'x'),
    /error: reward score: --prompt and --response go together/,
  );
  oneLineError(
    cli('reward', 'score', '--model', out, '--prompt', 'x', '--response', 'y', '--input', data),
    /give either --prompt and --response, or --input FILE, not both or neither/,
  );
  oneLineError(
    cli('reward', 'score', '--model', base, '--prompt', 'x', '--response', 'y'),
    /not a reward model \(config\.json has no "reward" block/,
  );
  const mixed = join(dir, 'mixed.jsonl');
  writeFileSync(mixed, `${JSON.stringify(records[0])}\n${JSON.stringify({ instruction: 'a', output: 'b' })}\n`);
  oneLineError(
    cli('reward', 'score', '--model', out, '--input', mixed),
    /mixes preference pairs \(1\) and single records \(1\)/,
  );
});

test('reward train mistakes are one-line errors naming the option or file', () => {
  const dir = tempDir('reward-cli-errors');
  const { data, base } = tinyPreferenceSetup(dir, 8);
  oneLineError(cli('reward'), /error: reward: expected a subcommand \(train or score\), received none/);
  oneLineError(cli('reward', 'train', '--model', base, '--data', data), /--out <dir> is required/);
  oneLineError(
    cli('reward', 'train', '--model', base, '--data', data, '--out', join(dir, 'o'), '--train', 'some'),
    /--train must be one of all, last-k, head, lora, received "some"/,
  );
  oneLineError(
    cli('reward', 'train', '--model', base, '--data', data, '--out', join(dir, 'o'), '--val-frac', '1'),
    /--val-frac must be in \[0, 1\), received 1/,
  );
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, `${JSON.stringify({ instruction: 'a', chosen: 'b' })}\n`);
  oneLineError(
    cli('reward', 'train', '--model', base, '--data', bad, '--out', join(dir, 'o')),
    /bad\.jsonl:1: field "rejected" is missing/,
  );
});
