/**
 * `--train lora` from the command line, on tiny random char-level bases: `finetune classify` prints the trainable
 * line and a test report, then `llmforge classify --model <out>` labels a text with the merged checkpoint;
 * `finetune sft` writes <out>/model and <out>/adapter, and `llmforge generate --model <out>/model` answers; the
 * --help text names the LoRA options; sft rejects a mode it does not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

/** A random 1-layer GPT over the characters of `text` (id 0 for padding), saved with its tokenizer. */
function tinyBase(dir: string, text: string, blockSize: number): string {
  const chars = [...new Set([...text])].filter((c) => c !== '\u0000').sort();
  const base = join(dir, 'base');
  const tok = new CharTokenizer(['\u0000', ...chars]);
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTextTokenizer(base, tok);
  return base;
}

test('finetune classify --train lora, then classify with the merged checkpoint', () => {
  const lines = syntheticSms(160, 3).map((l) => l.slice(0, 60));
  const dir = tempDir('lora-cli');
  const data = join(dir, 'sms.tsv');
  writeFileSync(data, lines.join('\n'));
  const base = tinyBase(dir, lines.join(''), 32);
  const out = join(dir, 'run');
  const r = cli(
    'finetune',
    'classify',
    '--train',
    'lora',
    '--lora-r',
    '2',
    '--lora-targets',
    'c_attn',
    '--model',
    base,
    '--data',
    data,
    '--out',
    out,
    '--epochs',
    '1',
    '--max-length',
    '32',
    '--quiet',
  );
  assert.equal(r.status, 0, r.stderr);
  // c_attn of one layer: r (16 + 48) = 128 adapter values, plus the head 16 * 2 + 2
  assert.match(
    r.stdout,
    /training lora \(r 2, alpha 16, dropout 0\.05 on 1 linears: c_attn; \+ head\): trainable 162 of [\d,]+ parameters \(\d+\.\d\d%\)/,
  );
  assert.match(r.stdout, /test \(best validation checkpoint\):\naccuracy \d+\.\d\d% on 32 examples/);
  for (const f of [
    'adapter/adapter_config.json',
    'adapter/adapter_model.safetensors',
    'checkpoints/best/model.safetensors',
    'checkpoints/latest/adapter/adapter_model.safetensors',
  ])
    assert.ok(existsSync(join(out, f)), f);
  const one = cli('classify', '--model', out, 'Free entry to win cash');
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^(ham|spam) {2}\(ham \d+\.\d%, spam \d+\.\d%\)\n$/);
  const help = cli('finetune', '--help').stdout;
  for (const o of ['--lora-r N', '--lora-alpha A', '--lora-dropout P', '--lora-targets LIST'])
    assert.ok(help.includes(o), o);
});

test('finetune sft --train lora writes the merged model and the adapter; generate opens <out>/model', () => {
  const dir = tempDir('lora-sft-cli');
  const pairs = [
    ['hi', 'hello'],
    ['bye', 'see you'],
    ['one', 'two'],
    ['sky', 'blue'],
    ['sun', 'hot'],
    ['sea', 'wet'],
  ];
  const data = join(dir, 'chat.jsonl');
  writeFileSync(
    data,
    pairs
      .map(
        ([q, a]) =>
          `${JSON.stringify({
            messages: [
              { role: 'user', content: q },
              { role: 'assistant', content: a },
            ],
          })}\n`,
      )
      .join(''),
  );
  const counter = new WordCounter('gpt2');
  counter.add(`${pairs.flat().join(' ')} <|im_start|>user assistant<|im_end|>\n`.repeat(3));
  const tok = trainBpe(counter.counts, {
    vocabSize: 300,
    minFrequency: 1,
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
        blockSize: 64,
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
    'finetune',
    'sft',
    '--train',
    'lora',
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
    '--val-frac',
    '0.34',
    '--eval-responses',
    '1',
    '--max-new-tokens',
    '3',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /lora: r 8, alpha 16, dropout 0\.05 on 4 linears \(c_attn, c_proj, c_fc\)/);
  assert.match(r.stderr, /training lora: trainable [\d,]+ of [\d,]+ parameters \(\d+\.\d\d%\)/);
  assert.match(r.stdout, /wrote .*model, .*adapter, metrics\.jsonl, responses\.jsonl, eval\.json/);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 4);
  const g = cli('generate', '--model', join(out, 'model'), 'hi', '--max-tokens', '3', '--temperature', '0');
  assert.equal(g.status, 0, g.stderr);
  const bad = cli('finetune', 'sft', '--train', 'head', '--model', base, '--data', data, '--out', out);
  assert.equal(bad.stderr, 'error: finetune sft: --train must be all or lora, received "head"\n');
});
