/**
 * Two things `llmforge estimate` and `llmforge info` got wrong for a new user: counts written the way the tool
 * prints them ("175B") were refused (now every count option takes K/M/B/T, models/units parseCount), and a
 * `--set nHead=...` over a saved model kept the model's nKvHead (now nKvHead follows nHead, keeping a grouped-query
 * ratio; a default-derived mlpHidden follows nEmbd), both in resolveModelConfig and through the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../../src/cli/args.ts';
import { dataCommand } from '../../src/cli/commands/data.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { formatShort, parseCount } from '../../src/models/units.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('parseCount reads what formatShort writes, and plain numbers', () => {
  for (const [n, shown] of [
    [175e9, '175.0B'],
    [124.4e6, '124.4M'],
    [2e12, '2.0T'],
    [1500, '1.5K'],
  ] as const) {
    assert.equal(formatShort(n), shown);
    assert.equal(parseCount(shown), n);
  }
  assert.equal(parseCount('175B'), 175e9);
  assert.equal(parseCount('1.5m'), 1.5e6);
  assert.equal(parseCount('300e9'), 300e9);
  assert.equal(parseCount('2k'), 2000);
  assert.equal(parseCount('7G'), 7e9);
  assert.equal(parseCount('1T'), 1e12);
  assert.equal(parseCount('100_000'), 100000);
  assert.equal(parseCount('42'), 42);
  for (const bad of ['', 'B', '17x', '1.5.5', 'Infinity', '1e999', '10 MB'])
    assert.equal(parseCount(bad), undefined, bad);
});

test('estimate --params 175B --tokens 300B is GPT-3, as 175e9 / 300e9 are', () => {
  const a = cli('estimate', '--params', '175B', '--tokens', '300B', '--json');
  const b = cli('estimate', '--params', '175e9', '--tokens', '300e9', '--json');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const bad = cli('estimate', '--params', '175X', '--tokens', '1');
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /^error: estimate: --params expects a number \(a count: 300e9, 300B; K, M, B, T suffixes\), received "175X"\n$/,
  );
});

test('data prepare --train-tokens and --shard-tokens take suffixes', () => {
  const p = parseArgs(dataCommand.spec, ['prepare', '--train-tokens', '2M', '--shard-tokens', '50K']);
  assert.equal(p.options['train-tokens'], 2e6);
  assert.equal(p.options['shard-tokens'], 5e4);
});

test('a saved config with nHead overridden: nKvHead follows (GPT, MHA Llama), GQA keeps its ratio or asks', () => {
  const gpt = completeModelConfig({ arch: 'gpt2', vocabSize: 64, blockSize: 16, nLayer: 1, nHead: 4, nEmbd: 32 });
  const g = resolveModelConfig(gpt, { nHead: 8 });
  assert.equal(g.nKvHead, 8);
  const wider = resolveModelConfig(gpt, { nEmbd: 64 });
  assert.equal(wider.mlpHidden, 256, 'the default 4C follows nEmbd');
  const custom = resolveModelConfig({ ...gpt, mlpHidden: 100 }, { nEmbd: 64 });
  assert.equal(custom.mlpHidden, 100, 'a chosen width stays');
  const gqa = completeModelConfig({
    arch: 'llama',
    vocabSize: 64,
    blockSize: 16,
    nLayer: 1,
    nHead: 6,
    nKvHead: 2,
    nEmbd: 48,
  });
  assert.equal(resolveModelConfig(gqa, { nHead: 12, nEmbd: 96 }).nKvHead, 4);
  assert.equal(resolveModelConfig(gqa, { nHead: 4, nKvHead: 4 }).nKvHead, 4);
  assert.throws(
    () => resolveModelConfig(gqa, { nHead: 4 }),
    /nHead 4 cannot keep the base's 3 query heads per key\/value head .*set nKvHead too/,
  );
  assert.equal(resolveModelConfig('llama-mini', { nHead: 12 }).nKvHead, 4);
});

test('info --model <saved model> --set nHead=8 reports 8 key/value heads', () => {
  const dir = join(tempDir('info-set'), 'm');
  mkdirSync(dir);
  const cfg = completeModelConfig({ arch: 'gpt2', vocabSize: 64, blockSize: 16, nLayer: 1, nHead: 4, nEmbd: 32 });
  saveModel(dir, createModel(cfg, new Rng(1)));
  const r = cli('info', '--model', dir, '--set', 'nHead=8', '--json');
  assert.equal(r.status, 0, r.stderr);
  const { config } = JSON.parse(r.stdout) as { config: { nHead: number; nKvHead: number } };
  assert.deepEqual([config.nHead, config.nKvHead], [8, 8]);
});
