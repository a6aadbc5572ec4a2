/**
 * `llmforge info` end to end: parameter table, FLOPs and memory for a preset (GPT-2 124M's published count), --json
 * as exactly one object, overrides with --set and further key=value arguments, a saved model directory, and
 * one-line errors for user mistakes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseArgs, renderHelp } from '../../src/cli/args.ts';
import { infoCommand } from '../../src/cli/commands/info.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', 'info', ...args], { encoding: 'utf8' });
}

test('info prints parameters per component, FLOPs and memory for a preset', () => {
  const r = cli('--model', 'gpt2-124m');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^preset gpt2-124m: gpt2/);
  assert.match(r.stdout, /\n {2}total +124,439,808 +100\.0%\n/);
  assert.match(r.stdout, /\n {2}head +0 +0\.0% +tied/);
  assert.match(r.stdout, /\n {2}training +854\.9 MFLOP/);
  assert.match(r.stdout, /\n {2}AdamW state +949\.4 MiB/);
});

test('info --json is one object; overrides and --batch/--seq apply', () => {
  const r = cli(
    '--model',
    'llama-mini',
    '--set',
    'vocabSize=1000',
    'nLayer=2',
    '--batch',
    '4',
    '--seq',
    '64',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    config: { vocabSize: number; nLayer: number };
    params: { total: number; head: number };
    flopsPerToken: { seq: number };
    memory: { batch: number };
  };
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.equal(out.config.vocabSize, 1000);
  assert.equal(out.config.nLayer, 2);
  assert.equal(out.params.head, 1000 * 384);
  assert.equal(
    out.params.total,
    createModel(resolveModelConfig('llama-mini', { vocabSize: 1000, nLayer: 2 }), new Rng(0)).numParameters(),
  );
  assert.equal(out.flopsPerToken.seq, 64);
  assert.equal(out.memory.batch, 4);
});

test('info reads a saved model directory', () => {
  const dir = tempDir('info');
  const cfg = resolveModelConfig('char-tiny', { nLayer: 1, nEmbd: 32 });
  saveModel(dir, createModel(cfg, new Rng(0)));
  const r = cli('--model', dir, '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; config: unknown; params: { total: number } };
  assert.equal(out.model, dir);
  assert.deepEqual(out.config, cfg);
  assert.equal(out.params.total, createModel(cfg, new Rng(0)).numParameters());
});

test('info mistakes are clear errors; the CLI prints one error line', () => {
  const cases: [string[], RegExp][] = [
    [['--model', 'toy', '--set', 'nLayers=2'], /^error: --set nLayers=2: unknown model field "nLayers"/],
    [
      ['--model', 'toy', '--set', 'nHead=5'],
      /^error: preset toy with overrides \{"nHead":5\}: nEmbd 192 must be a multiple of nHead 5 \(head size/,
    ],
    [['--model', 'toy', '--seq', '4096'], /^error: info: --seq 4096 exceeds the model's context length 128$/],
    [[], /^error: info: --model is required/],
    [['--model', 'toy', 'extra'], /^error: info: unexpected argument "extra"/],
  ];
  for (const [args, re] of cases) {
    assert.throws(
      () => infoCommand.run(parseArgs(infoCommand.spec, args)),
      (e: Error) => {
        assert.match(`error: ${e.message}`, re);
        assert.ok(e instanceof UserError, `${args.join(' ')}: not a user error`);
        return true;
      },
    );
  }
  const r = cli('--model', 'gpt-huge');
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr,
    'error: info: --model "gpt-huge" is neither a preset (char-tiny, toy, gpt-mini, gpt2-124m, llama-mini) nor a model directory\n',
  );
  assert.match(renderHelp(infoCommand.spec), /Usage: llmforge info --model <preset\|dir>/);
});
