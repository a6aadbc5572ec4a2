/**
 * `llmforge finetune sft` end to end on 40 synthetic Alpaca records (test/helpers/tiny-instructions.ts) with a small
 * random GPT-2 and a BPE tokenizer trained on
 * them: --preview prints the rendered record and marks masked and learned tokens, a short packed run writes the
 * model, metrics, held-out responses and scores, `llmforge chat` answers piped lines with the tuned model, and
 * mistakes are one-line errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { instructionOnly, syntheticInstructions } from '../helpers/tiny-instructions.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('finetune sft: --preview, a short packed run with held-out scores, errors', () => {
  const records = instructionOnly(syntheticInstructions(40, 4));
  const dir = tempDir('sft-cli');
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

  const p = cli('finetune', 'sft', '--model', base, '--data', data, '--template', 'alpaca', '--preview');
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /### Instruction:\nGive the opposite of the word\.\n\n### Input:\nhot\n/);
  assert.match(p.stdout, /cold\\"\."<eos>|cold"\.<eos>/);
  const learn = p.stdout.split('\n').filter((l) => / LEARN /.test(l));
  const masked = p.stdout.split('\n').filter((l) => / masked /.test(l));
  assert.ok(learn.length > 5 && masked.length > 20, `${learn.length} learned, ${masked.length} masked`);
  assert.match(learn[learn.length - 1]!, /<eos>$/);
  const off = cli(
    'finetune',
    'sft',
    '--model',
    base,
    '--data',
    data,
    '--template',
    'alpaca',
    '--preview',
    '--train-on-prompt',
  );
  assert.equal(off.stdout.split('\n').filter((l) => / masked /.test(l)).length, 1); // only the first token predicts nothing

  const out = join(dir, 'run');
  const r = cli(
    'finetune',
    'sft',
    '--model',
    base,
    '--data',
    data,
    '--out',
    out,
    '--steps',
    '4',
    '--batch-size',
    '2',
    '--pack',
    '--val-frac',
    '0.1',
    '--eval-responses',
    '2',
    '--max-new-tokens',
    '4',
    '--quiet',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /train loss \d+\.\d{4}, val loss \d+\.\d{4}; 2 held-out responses: exact match \d+\.\d%, ROUGE-L \d\.\d{3}/,
  );
  for (const f of ['model/config.json', 'model/tokenizer.json', 'metrics.jsonl', 'responses.jsonl', 'eval.json'])
    assert.ok(existsSync(join(out, f)), f);
  const rows = readFileSync(join(out, 'responses.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 2);
  assert.deepEqual(Object.keys(rows[0]!).sort(), [
    'exactMatch',
    'prompt',
    'reference',
    'response',
    'rougeL',
    'stopReason',
  ]);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 4);

  // The tuned model in a piped chat: one reply line per user line, /reset acknowledged, /exit ends early.
  const chat = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'chat', '--model', join(out, 'model'), '--template', 'alpaca', '--max-tokens', '3'],
    { encoding: 'utf8', input: 'Say hi.\n/reset\nSay bye.\n/exit\nnot read\n' },
  );
  assert.equal(chat.status, 0, chat.stderr);
  const lines = chat.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 3, chat.stdout);
  assert.equal(lines[1], '(conversation reset)');

  const bad = cli('finetune', 'sft', '--model', base, '--data', data, '--template', 'vicuna', '--preview');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), 'error: --template: expected one of alpaca, chatml, model, received "vicuna"');
});
