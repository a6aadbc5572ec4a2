/**
 * The tokenizer CLI end to end: train writes a tokenizer.json, encode --json prints exactly one JSON array,
 * decode inverts it, show brackets tokens when not on a terminal, and user mistakes give one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpt2TokenizerDir } from '../helpers/gpt2-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('tokenizer train / encode --json / decode / show', () => {
  const dir = tempDir('cli');
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, 'the cat sat on the mat\n'.repeat(50));
  const out = join(dir, 'tok');
  const train = cli('tokenizer', 'train', '--input', corpus, '--vocab-size', '270', '--out', out);
  assert.equal(train.status, 0, train.stderr);
  assert.match(train.stdout, /trained \d+ tokens/);
  const enc = cli('tokenizer', 'encode', '--tokenizer', out, '--json', 'the cat');
  assert.equal(enc.status, 0, enc.stderr);
  const ids = JSON.parse(enc.stdout) as number[];
  assert.ok(Array.isArray(ids) && ids.every(Number.isInteger));
  assert.equal(enc.stdout.trim(), JSON.stringify(ids));
  const dec = cli('tokenizer', 'decode', '--tokenizer', out, JSON.stringify(ids));
  assert.equal(dec.stdout, 'the cat\n');
  const show = cli('tokenizer', 'show', '--tokenizer', gpt2TokenizerDir(), 'Hello world');
  assert.equal(show.stdout, '[Hello][ world]\n15496 995\n2 tokens, 11 characters\n');
});

test('tokenizer CLI errors are one clear line', () => {
  const missing = cli('tokenizer', 'encode', '--tokenizer', '/nonexistent/tok', 'x');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^error: \/nonexistent\/tok: no such file or directory/);
  assert.doesNotMatch(missing.stderr, /at .*\.ts:\d+/);
  const bad = cli('tokenizer', 'frobnicate');
  assert.match(bad.stderr, /unknown subcommand "frobnicate"; expected train, encode, decode or show/);
  const help = cli('tokenizer', '--help');
  assert.match(help.stdout, /Usage: llmforge tokenizer train/);
});
