/**
 * The sampling flags of `generate` (and `chat`, see chat-cli.test.ts) are checked before anything is printed: a bad
 * --temperature, --top-k, --top-p, --repetition-penalty, --seed or --max-tokens is one `error:` line naming the flag,
 * exit code 2 and an empty stdout (the prompt used to be printed first); good values still stream the prompt first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkSamplingFlags } from '../../src/cli/sampling-flags.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const modelDir = join(tempDir('sampling-flags'), 'model');
{
  const wc = new WordCounter();
  wc.add('The sun rises in the east. The sun sets in the west.\n'.repeat(30));
  const tok = trainBpe(wc.counts, { vocabSize: 280 });
  mkdirSync(modelDir);
  saveModel(
    modelDir,
    createModel(
      completeModelConfig({ arch: 'gpt2', vocabSize: tok.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16 }),
      new Rng(3),
    ),
  );
  saveTextTokenizer(modelDir, tok);
}

function generate(...flags: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', 'generate', '--model', modelDir, 'The sun', ...flags], {
    encoding: 'utf8',
  });
}

test('generate: every bad sampling flag is one line before any output', () => {
  for (const [flag, value] of [
    ['--temperature', '-1'],
    ['--top-k', '2.5'],
    ['--top-p', '0'],
    ['--top-p', '1.5'],
    ['--repetition-penalty', '0'],
    ['--seed', '0.5'],
    ['--max-tokens', '-3'],
  ] as const) {
    const r = generate(flag, value);
    assert.equal(r.status, 2, `${flag} ${value}: ${r.stderr}`);
    assert.equal(r.stdout, '', `${flag} ${value}: nothing on stdout`);
    assert.match(r.stderr, new RegExp(`^error: generate: ${flag} must be [^\\n]*, received ${value}\\n$`));
  }
  const ok = generate('--max-tokens', '3', '--temperature', '0');
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.startsWith('The sun'), ok.stdout);
  const none = generate('--max-tokens', '0');
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, 'The sun\n');
});

test('checkSamplingFlags checks only the flags given', () => {
  checkSamplingFlags('x', {}, 'positive');
  checkSamplingFlags('x', { temperature: 0, 'top-p': 1, 'max-tokens': 0 }, 'non-negative');
  assert.throws(
    () => checkSamplingFlags('x', { 'max-tokens': 0 }, 'positive'),
    /x: --max-tokens must be an integer >= 1/,
  );
  assert.throws(() => checkSamplingFlags('x', { temperature: Number.NaN }, 'positive'), /--temperature must be/);
});
