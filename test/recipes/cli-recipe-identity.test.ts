/**
 * One run path per job: the command line and a one-stage recipe with the same settings (everything else left to
 * the defaults) write bit-identical weights, for pretraining (`train` / stage pretrain), classification
 * (`finetune classify` / classify), instruction tuning (`finetune sft` / sft) and domain adaptation
 * (`finetune domain` / domain), each on a tiny model for a few steps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe } from '../../src/recipes/runner.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyCharBase } from '../helpers/tiny-char-base.ts';
import { instructionOnly, syntheticInstructions } from '../helpers/tiny-instructions.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';
import { charPrepareArgs } from '../helpers/char-data.ts';

registerBuiltinStages();

function cli(...args: string[]): void {
  const r = spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** Runs a one-stage recipe (a YAML flow mapping) with its outputs under `out`. */
async function recipe(out: string, stage: string): Promise<void> {
  await runRecipe(parseRecipe(`out: ${out}\nstages:\n  - ${stage}\n`, 'r.yaml'), { log: () => {}, quiet: true });
}

/** Every .safetensors file of the two directories, byte for byte (at least one). */
function sameWeights(a: string, b: string): void {
  const files = readdirSync(a)
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
  assert.ok(files.length > 0, `no weights in ${a}`);
  assert.deepEqual(
    readdirSync(b)
      .filter((f) => f.endsWith('.safetensors'))
      .sort(),
    files,
  );
  for (const f of files)
    assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs between ${a} and ${b}`);
}

test('pretraining: llmforge train and a pretrain stage write the same weights', async () => {
  const dir = tempDir('identity-pretrain');
  writeFileSync(
    join(dir, 'corpus.txt'),
    Array.from({ length: 40 }, (_, i) => `paragraph ${i}: the cat sat on the mat and the dog sat on the log.`).join(
      '\n\n',
    ),
  );
  const data = join(dir, 'data');
  cli(...charPrepareArgs(join(dir, 'corpus.txt'), data));
  cli(
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
    '--eval-interval',
    '0',
    '--sample-tokens',
    '0',
    '--lr',
    '0.002',
    '--steps',
    '3',
    '--out',
    join(dir, 'cli'),
    '--quiet',
  );
  await recipe(
    join(dir, 'recipe'),
    `{name: pre, type: pretrain, data: ${data}, preset: char-tiny, config: {nLayer: 1, nEmbd: 32, nHead: 2, blockSize: 16}, batchSize: 4, evalIters: 2, evalInterval: 0, sampleTokens: 0, lr: 0.002, steps: 3}`,
  );
  sameWeights(join(dir, 'cli', 'checkpoints', 'latest'), join(dir, 'recipe', 'pre', 'checkpoints', 'latest'));
});

test('classification: llmforge finetune classify and a classify stage write the same weights', async () => {
  const dir = tempDir('identity-classify');
  const lines = syntheticSms(60, 2);
  const data = join(dir, 'sms.tsv');
  writeFileSync(data, lines.join('\n'));
  const chars = [...new Set([...lines.join('')])].sort();
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: chars.length + 1,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTextTokenizer(base, new CharTokenizer(['\u0000', ...chars]));
  cli(
    'finetune',
    'classify',
    '--model',
    base,
    '--data',
    data,
    '--out',
    join(dir, 'cli'),
    '--epochs',
    '1',
    '--max-length',
    '32',
    '--quiet',
  );
  await recipe(
    join(dir, 'recipe'),
    `{name: clf, type: classify, model: ${base}, data: ${data}, epochs: 1, maxLength: 32}`,
  );
  for (const ck of ['latest', 'best'])
    sameWeights(join(dir, 'cli', 'checkpoints', ck), join(dir, 'recipe', 'clf', 'checkpoints', ck));
});

test('instruction tuning: llmforge finetune sft and an sft stage write the same weights', async () => {
  const dir = tempDir('identity-sft');
  const records = instructionOnly(syntheticInstructions(12, 4));
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const counter = new WordCounter('gpt2');
  counter.add(
    records.map((r) => `${r.instruction} ${r.input} ${r.output} <|im_start|>user assistant<|im_end|>`).join('\n'),
  );
  const tok = trainBpe(counter.counts, {
    vocabSize: 300,
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
        blockSize: 128,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTokenizer(base, tok);
  cli(
    'finetune',
    'sft',
    '--model',
    base,
    '--data',
    data,
    '--out',
    join(dir, 'cli'),
    '--steps',
    '3',
    '--batch-size',
    '2',
    '--eval-responses',
    '1',
    '--max-new-tokens',
    '2',
    '--quiet',
  );
  await recipe(
    join(dir, 'recipe'),
    `{name: tune, type: sft, model: ${base}, data: ${data}, steps: 3, batchSize: 2, evalResponses: 1, maxNewTokens: 2, show: 0}`,
  );
  sameWeights(join(dir, 'cli', 'model'), join(dir, 'recipe', 'tune', 'model'));
});

test('domain adaptation: llmforge finetune domain and a domain stage write the same weights', async () => {
  const dir = tempDir('identity-domain');
  const { base, a } = tinyCharBase(dir);
  cli(
    'finetune',
    'domain',
    '--model',
    base,
    '--data',
    a,
    '--out',
    join(dir, 'cli'),
    '--steps',
    '3',
    '--batch-size',
    '4',
    '--context',
    '16',
    '--eval-every',
    '0',
    '--quiet',
  );
  await recipe(
    join(dir, 'recipe'),
    `{name: adapt, type: domain, model: ${base}, data: ${a}, steps: 3, batchSize: 4, context: 16, evalInterval: 0}`,
  );
  sameWeights(join(dir, 'cli', 'checkpoints', 'latest'), join(dir, 'recipe', 'adapt', 'checkpoints', 'latest'));
});
