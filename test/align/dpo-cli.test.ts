/**
 * `llmforge dpo` end to end on 40 synthetic preference records (test/helpers/tiny-instructions.ts) with a small
 * random GPT-2 and a BPE
 * tokenizer trained on them: a short LoRA run prints the held-out summary and writes the merged model (which
 * `llmforge generate` opens), the adapter, metrics.jsonl with the reward columns, eval.json and a checkpoint;
 * mistakes in flags and data are one-line errors (checked before the model is opened).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
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

test('dpo: a short LoRA run writes model, adapter, metrics and eval, and generate opens it', () => {
  const records = syntheticInstructions(40, 2);
  const dir = tempDir('dpo-cli');
  const data = join(dir, 'prefs.json');
  writeFileSync(data, JSON.stringify(records));
  const counter = new WordCounter('gpt2');
  counter.add(
    records
      .map(
        (r) =>
          `${r.instruction} ${r.input} ${r.chosen} ${r.rejected} Below is an instruction that describes a task. Write a response that appropriately completes the request. ### Instruction: Input: Response:`,
      )
      .join('\n'),
  );
  const tok = trainBpe(counter.counts, {
    vocabSize: 400,
    minFrequency: 2,
    specialTokens: ['<|endoftext|>'],
    pretokenizer: 'gpt2',
  });
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 96,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTokenizer(base, tok);

  const out = join(dir, 'run');
  const r = cli(
    'dpo',
    '--model',
    base,
    '--data',
    data,
    '--out',
    out,
    '--template',
    'alpaca',
    '--train',
    'lora',
    '--steps',
    '4',
    '--batch-size',
    '4',
    '--eval-every',
    '2',
    '--val-frac',
    '0.2',
    '--precision',
    'fp32',
    '--lr',
    '1e-3',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /dpo: 32 train \/ 8 held-out pairs, template alpaca, loss sigmoid, beta 0.1, 4 pairs per step, 4 steps, lr 0.001/,
  );
  assert.match(
    r.stderr,
    /step 2: train loss \d\.\d{4}, rewards chosen -?\d\.\d{3} rejected -?\d\.\d{3}, accuracy \d+\.\d%, margin -?\d\.\d{3}\n\s+held-out loss/,
  );
  assert.match(
    r.stdout,
    /^held-out pairs after 4 steps: loss \d\.\d{4} \(0\.6931 at the start\), reward accuracy \d+\.\d%, margin -?\d\.\d{3}\n/,
  );
  for (const f of [
    'model/config.json',
    'model/tokenizer.json',
    'adapter/adapter_config.json',
    'adapter/adapter_model.safetensors',
    'metrics.jsonl',
    'eval.json',
    'checkpoints/latest/dpo-state.json',
  ])
    assert.ok(existsSync(join(out, f)), f);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  assert.equal(metrics.length, 4);
  for (const k of [
    'loss',
    'rewards/chosen',
    'rewards/rejected',
    'rewards/accuracy',
    'rewards/margin',
    'val/loss',
    'val/rewards/accuracy',
    'train/rewards/margin',
  ])
    assert.equal(typeof metrics[3]![k], 'number', k);
  const gen = cli('generate', '--model', out, 'Hello', '--max-tokens', '3', '--temperature', '0');
  assert.equal(gen.status, 0, gen.stderr);
});

test('dpo: bad flags and data are one-line errors', () => {
  const dir = tempDir('dpo-cli-errors');
  const out = join(dir, 'run');
  const base = join(dir, 'missing-model');
  const data = join(dir, 'prefs.json');
  writeFileSync(data, JSON.stringify([{ instruction: 'x', chosen: 'a', rejected: 'b' }]));
  const bad: [string[], string][] = [
    [['--data', data, '--out', out], 'error: dpo: --model <instruction-tuned model or run dir> is required'],
    [
      ['--model', base, '--data', data, '--out', out, '--loss', 'hinge'],
      'error: dpo: --loss must be sigmoid or ipo, received "hinge"',
    ],
    [
      ['--model', base, '--data', data, '--out', out, '--beta', '-1'],
      'error: dpo: --beta must be a positive number, received -1',
    ],
    [
      ['--model', base, '--data', data, '--out', out, '--train', 'head'],
      'error: dpo: --train must be all or lora, received "head"',
    ],
    [
      ['--model', base, '--data', data, '--out', out, '--max-length', '1'],
      'error: dpo: --max-length must be at least 2 (one prompt and one response token), received 1',
    ],
    [
      ['--model', base, '--data', data, '--out', out, '--batch-size', '0'],
      'error: dpo: --batch-size must be a positive integer, received 0',
    ],
  ];
  for (const [args, message] of bad) {
    const e = cli('dpo', ...args);
    assert.equal(e.status, 2, e.stderr);
    assert.equal(e.stderr.trim(), message);
  }
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, JSON.stringify([{ instruction: 'x', chosen: 'a' }]));
  const e = cli('dpo', '--model', base, '--data', broken, '--out', out); // the data is read before the model
  assert.equal(e.status, 2);
  assert.equal(e.stderr.trim().split('\n').length, 1);
  assert.match(e.stderr, /broken\.json record 0: field "rejected" is missing/);
});
