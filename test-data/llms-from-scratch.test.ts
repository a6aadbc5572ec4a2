/**
 * The shared LLMs-from-scratch files: the 1,000 preference records load as pairs (5 byte-identical pairs dropped
 * and counted), and `finetune sft --preview` renders the first of the 1,000 instruction records in the Alpaca
 * template with its prompt tokens masked and its answer (ending in a quote) learned up to <eos>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPreferencePairs } from '../src/finetune/preference-data.ts';
import { createModel } from '../src/models/create.ts';
import { saveModel } from '../src/models/model-io.ts';
import { resolveModelConfig } from '../src/models/presets.ts';
import { Rng } from '../src/tensor/random.ts';
import { saveTokenizer } from '../src/tokenizer/hf-json.ts';
import { trainBpe, WordCounter } from '../src/tokenizer/train-bpe.ts';
import { tempDir } from '../test/helpers/temp-dir.ts';
import { dataPath } from './data-dir.ts';

test('the preference file: 1,000 records, identical pairs dropped and counted', () => {
  const real = loadPreferencePairs(dataPath('llms-from-scratch/instruction-data-with-preference.json'));
  assert.equal(real.pairs.length + real.identical, 1000);
  assert.equal(real.identical, 5); // byte-identical pairs (the data README says 6; 8 match ignoring case and punctuation)
});

test('the instruction file: 1,000 records; sft --preview renders the first with masked prompt and learned answer', () => {
  const all = JSON.parse(readFileSync(dataPath('llms-from-scratch/instruction-data.json'), 'utf8')) as {
    instruction: string;
    input: string;
    output: string;
  }[];
  assert.equal(all.length, 1000);
  const records = all.slice(0, 40);
  const dir = tempDir('lfs');
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const counter = new WordCounter('gpt2');
  counter.add(
    records
      .map(
        (r) =>
          `${r.instruction} ${r.input} ${r.output} Below is an instruction that describes a task. Write a response that appropriately completes the request. ### Instruction: Input: Response:`,
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
        blockSize: 160,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTokenizer(base, tok);
  const p = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'finetune', 'sft', '--model', base, '--data', data, '--template', 'alpaca', '--preview'],
    { encoding: 'utf8' },
  );
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /### Instruction:\nEvaluate the following phrase/);
  assert.match(p.stdout, /friend\\"\."<eos>|friend"\.<eos>/);
  const learn = p.stdout.split('\n').filter((l) => / LEARN /.test(l));
  const masked = p.stdout.split('\n').filter((l) => / masked /.test(l));
  assert.ok(learn.length > 5 && masked.length > 20, `${learn.length} learned, ${masked.length} masked`);
});
