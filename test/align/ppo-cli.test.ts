/**
 * `llmforge ppo` end to end on 24 synthetic preference prompts (test/helpers/tiny-instructions.ts) with a small random
 * GPT-2 policy and a small
 * random reward model (its own head; both with a BPE tokenizer trained on the records): a short LoRA run prints the
 * held-out summary and writes the merged model (which `llmforge generate` opens) with its value head, the adapter,
 * metrics.jsonl with the PPO columns, samples.jsonl, eval.json and a checkpoint; flag mistakes and a directory that
 * is not a reward model are one-line errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RewardModel, saveRewardModel } from '../../src/align/reward-model.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticInstructions } from '../helpers/tiny-instructions.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

function setup(dir: string): { data: string; base: string; rm: string } {
  const records = syntheticInstructions(24, 1);
  const data = join(dir, 'prefs.json');
  writeFileSync(data, JSON.stringify(records));
  const counter = new WordCounter('gpt2');
  counter.add(
    records
      .map((r) => `${r.instruction} ${r.input} ${r.chosen} ${r.rejected} <|im_start|>user assistant<|im_end|>`)
      .join('\n'),
  );
  const tok = trainBpe(counter.counts, {
    vocabSize: 400,
    minFrequency: 2,
    specialTokens: ['<|endoftext|>'],
    pretokenizer: 'gpt2',
  });
  const cfg = resolveModelConfig({
    arch: 'gpt2',
    vocabSize: tok.vocabSize,
    blockSize: 96,
    nLayer: 1,
    nHead: 2,
    nEmbd: 16,
    dropout: 0,
  });
  const base = join(dir, 'base');
  saveModel(base, createModel(cfg, new Rng(3)));
  saveTokenizer(base, tok);
  const rm = join(dir, 'rm');
  const eos = tok.vocabSize - 1;
  saveRewardModel(
    rm,
    new RewardModel(
      createModel(cfg, new Rng(9)),
      { template: 'chatml', maxLength: 96, padId: eos, eosId: eos },
      new Rng(10),
    ),
    tok,
  );
  return { data, base, rm };
}

test('ppo: a short LoRA run writes model, value head, adapter, metrics, samples and eval; generate opens it', () => {
  const dir = tempDir('ppo-cli');
  const { data, base, rm } = setup(dir);
  const out = join(dir, 'run');
  const r = cli(
    'ppo',
    '--model',
    base,
    '--reward-model',
    rm,
    '--prompts',
    data,
    '--out',
    out,
    '--train',
    'lora',
    '--iterations',
    '3',
    '--batch-size',
    '4',
    '--mini-batch-size',
    '2',
    '--ppo-epochs',
    '2',
    '--max-new-tokens',
    '6',
    '--val-prompts',
    '4',
    '--sample-every',
    '2',
    '--target-kl',
    '1',
    '--precision',
    'fp32',
    '--lr',
    '1e-3',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /ppo: 20 train \/ 4 held-out prompts, template chatml, reward model .*rm \(template chatml\), 4 responses per iteration of up to 6 tokens, 2 PPO epochs of 2, lr 0.001, kl-coef 0.2 \(adaptive, target 1\)/,
  );
  assert.match(
    r.stderr,
    /iter 3\/3: reward -?\d+\.\d{3} \| kl -?\d+\.\d{3} \(coef [\d.]+\) \| policy -?\d\.\d{4} \| value \d+\.\d{4} \| clip \d+\.\d% \| entropy \d+\.\d{2} \| length \d+\.\d/,
  );
  assert.match(r.stderr, /\n {2}sample \(reward -?\d+\.\d{2}\): ".+" -> ".*"\n/);
  assert.match(
    r.stdout,
    /^held-out prompts \(4\): mean reward -?\d+\.\d{3} after 3 iterations \(-?\d+\.\d{3} at the start\), mean length \d+\.\d tokens \(\d+\.\d\)\n/,
  );
  for (const f of [
    'model/config.json',
    'model/tokenizer.json',
    'model/value-head.safetensors',
    'adapter/adapter_config.json',
    'metrics.jsonl',
    'samples.jsonl',
    'eval.json',
    'checkpoints/latest/ppo-state.json',
    'checkpoints/latest/value-head.safetensors',
    'checkpoints/latest/optimizer.safetensors',
  ])
    assert.ok(existsSync(join(out, f)), f);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  assert.equal(metrics.length, 3);
  for (const k of [
    'reward',
    'kl',
    'klCoef',
    'policyLoss',
    'valueLoss',
    'clipFrac',
    'approxKl',
    'entropy',
    'responseLength',
  ])
    assert.equal(typeof metrics[2]![k], 'number', k);
  const evalJson = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { heldOut: { prompts: number } };
  assert.equal(evalJson.heldOut.prompts, 4);
  const gen = cli('generate', '--model', out, 'Hello', '--max-tokens', '3', '--temperature', '0');
  assert.equal(gen.status, 0, gen.stderr);
});

test('ppo: bad flags and a directory that is not a reward model are one-line errors', () => {
  const dir = tempDir('ppo-cli-errors');
  const { data, base } = setup(dir);
  const out = join(dir, 'run');
  const common = ['--model', base, '--prompts', data, '--out', out];
  const bad: [string[], string][] = [
    [
      ['--reward-model', base, '--prompts', data, '--out', out],
      'error: ppo: --model <instruction-tuned model or run dir> is required',
    ],
    [common, 'error: ppo: --reward-model <dir from llmforge reward train> is required'],
    [
      [...common, '--reward-model', base, '--train', 'head'],
      'error: ppo: --train must be all or lora, received "head"',
    ],
    [
      [...common, '--reward-model', base, '--temperature', '0'],
      'error: ppo: --temperature must be a positive number, received 0',
    ],
    [[...common, '--reward-model', base, '--gamma', '2'], 'error: ppo: --gamma must be in [0, 1], received 2'],
    [
      [...common, '--reward-model', base, '--mini-batch-size', '1.5'],
      'error: ppo: --mini-batch-size must be a positive integer, received 1.5',
    ],
    [
      [...common, '--reward-model', base, '--max-new-tokens', '96'],
      "error: ppo: --max-new-tokens 96 leaves no room for a prompt in the model's context of 96 tokens",
    ],
  ];
  for (const [args, message] of bad) {
    const e = cli('ppo', ...args);
    assert.equal(e.status, 2, e.stderr);
    assert.equal(e.stderr.trim(), message);
  }
  const e = cli('ppo', ...common, '--reward-model', base);
  assert.equal(e.status, 2, e.stderr);
  assert.equal(e.stderr.trim().split('\n').length, 1);
  assert.match(e.stderr, /not a reward model \(config.json has no "reward" block/);
});
