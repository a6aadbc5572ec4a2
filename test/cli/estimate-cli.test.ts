/**
 * `llmforge estimate` end to end: GPT-3's figures and the hardware assumptions in the text output, --json as one
 * object, --model with a preset and overrides, and one-line errors for user mistakes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseArgs } from '../../src/cli/args.ts';
import { estimateCommand } from '../../src/cli/commands/estimate.ts';
import { UserError } from '../../src/util/user-error.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', 'estimate', ...args], { encoding: 'utf8' });
}

test('estimate prints compute, time, cost, memory and the assumptions', () => {
  const r = cli('--params', '175e9', '--tokens', '300e9', '--hardware', 'v100', '--mfu', '0.3');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /compute +3\.15e\+23 FLOP {2}= 6 x N x D/);
  assert.match(r.stdout, /device time +2,333,333 device-hours/);
  assert.match(r.stdout, /cost +\$3\.50M at \$1\.50 per device-hour/);
  assert.match(r.stdout, /v100 +NVIDIA V100 SXM2 32GB +125\.0 TFLOP\/s/);
  assert.match(r.stdout, /cpu +this machine .* 460\.0 GFLOP\/s/);
});

test('estimate --json is one object; --model takes a preset and overrides', () => {
  const r = cli(
    '--params',
    '175e9',
    '--tokens',
    '300e9',
    '--hardware',
    'a100',
    '--gpus',
    '1024',
    '--price-per-hour',
    '1.2',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const e = JSON.parse(r.stdout) as {
    flops: number;
    devices: number;
    pricePerHour: number;
    cost: number;
    deviceHours: number;
  };
  assert.equal(e.flops, 6 * 175e9 * 300e9);
  assert.equal(e.devices, 1024);
  assert.equal(e.cost, e.deviceHours * 1.2);
  const m = cli('--model', 'gpt-mini', '--set', 'nLayer=12', '--tokens', '1e9', '--hardware', 'cpu', '--json');
  assert.equal(m.status, 0, m.stderr);
  const em = JSON.parse(m.stdout) as { model: string; flopsFormula: string; precision: string };
  assert.match(em.model, /preset gpt-mini: 12 layers/);
  assert.match(em.flopsFormula, /12 x L x T x C/);
  assert.equal(em.precision, 'fp32');
});

test('estimate mistakes are clear errors; the CLI prints one error line', () => {
  const cases: [string[], RegExp][] = [
    [['--params', '1e9'], /^error: estimate: --tokens is required/],
    [['--tokens', '1e9'], /^error: estimate: give exactly one of --params N or --model/],
    [['--params', '1e9', '--tokens', '1e9', '--hardware', 'tpu'], /^error: estimate: unknown hardware "tpu"/],
    [
      ['--params', '1e9', '--tokens', 'lots'],
      /^error: estimate: --tokens expects a number \(a count: 300e9, 300B; K, M, B, T suffixes\), received "lots"/,
    ],
    [
      ['--params', '1e9', '--tokens', '1e9', '--precision', 'fp8'],
      /^error: estimate: --precision must be bf16 or fp32/,
    ],
  ];
  for (const [args, re] of cases) {
    assert.throws(
      () => estimateCommand.run(parseArgs(estimateCommand.spec, args)),
      (e: Error) => {
        assert.match(`error: ${e.message}`, re);
        assert.ok(e instanceof UserError, `${args.join(' ')}: not a user error`);
        return true;
      },
    );
  }
  const r = cli('--params', '1e9', '--tokens', '1e9', '--mfu', '2');
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'error: estimate: MFU must be in (0, 1], received 2\n');
});
