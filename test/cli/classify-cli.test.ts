/**
 * `llmforge finetune classify` and `llmforge classify` end to end on a small synthetic SMS sample with a random char-level
 * base: training prints the test report, `classify "text"` prints a label with probabilities, `--input/--output`
 * writes one JSON line per input in order, and mistakes are one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('finetune classify, then classify one text and a file', () => {
  const lines = syntheticSms(200, 4).map((l) => l.slice(0, 80));
  const dir = tempDir('classify-cli');
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
  const out = join(dir, 'run');
  const r = cli(
    'finetune',
    'classify',
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
  assert.match(r.stdout, /data 200 examples, labels \[ham, spam\]/);
  assert.match(r.stdout, /test \(best validation checkpoint\):\naccuracy \d+\.\d\d% on 40 examples/);
  assert.match(r.stdout, /confusion \(rows true, columns predicted: ham, spam\)/);

  const one = cli('classify', '--model', out, 'Free entry to win cash');
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^(ham|spam) {2}\(ham \d+\.\d%, spam \d+\.\d%\)\n$/);

  const input = join(dir, 'in.jsonl');
  const texts = ['hello there', 'WIN a prize now', 'see you at 5'];
  writeFileSync(input, texts.map((t) => JSON.stringify({ text: t, label: '?' })).join('\n'));
  const output = join(dir, 'out.jsonl');
  const many = cli('classify', '--model', out, '--input', input, '--output', output);
  assert.equal(many.status, 0, many.stderr);
  const recs = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string; label: string; probs: Record<string, number> });
  assert.deepEqual(
    recs.map((x) => x.text),
    texts,
  );
  for (const x of recs) {
    assert.ok(['ham', 'spam'].includes(x.label));
    assert.ok(Math.abs(x.probs.ham! + x.probs.spam! - 1) < 1e-4);
    assert.equal(x.label, x.probs.spam! > x.probs.ham! ? 'spam' : 'ham');
  }
});

test('mistakes are one-line errors', () => {
  const noSub = cli('finetune');
  assert.equal(noSub.status, 2);
  assert.match(noSub.stderr, /^error: finetune: expected a subcommand \(classify[^)]*\), received none\n$/);
  const badMode = cli('finetune', 'classify', '--model', 'x', '--data', 'y', '--out', 'z', '--train', 'some');
  assert.match(
    badMode.stderr,
    /^error: finetune classify: --train must be one of all, last-k, head, lora, received "some"\n$/,
  );
  const lora = cli(
    'finetune',
    'classify',
    '--model',
    'x',
    '--data',
    'y',
    '--out',
    'z',
    '--train',
    'lora',
    '--lora-r',
    '0',
  );
  assert.match(lora.stderr, /^error: finetune classify: --lora-r must be a positive integer, received 0\n$/);
  const both = cli('classify', '--model', 'x');
  assert.match(both.stderr, /^error: classify: give either a text argument or --input FILE/);
  const missing = cli('classify', '--model', '/nonexistent/model', 'hi');
  assert.match(missing.stderr, /^error: \/nonexistent\/model: no such directory/);
  assert.match(cli('finetune', '--help').stdout, /--pooling NAME/);
});
