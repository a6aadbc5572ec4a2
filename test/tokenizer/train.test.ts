/**
 * BPE training, tokenizer.json round trips, format errors and the character tokenizer. Fixtures are built in the
 * test: a tokenizer is trained here on a small text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseTokenizerJson, loadTokenizerJson, saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { parseMerges } from '../../src/tokenizer/gpt2-files.ts';
import { trainBpe, trainBpeFromFiles, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const TEXT = `${'the cat sat on the mat. the cat ate the rat. a hat, a bat, a mat!\n'.repeat(20)}naïve café 日本 👍 1234567\n`;

test('training learns the most frequent pairs first, deterministically', () => {
  const counter = new WordCounter();
  counter.add(TEXT);
  const a = trainBpe(counter.counts, { vocabSize: 272, specialTokens: ['<|endoftext|>', '<|pad|>'] });
  const b = trainBpe(counter.counts, { vocabSize: 272, specialTokens: ['<|endoftext|>', '<|pad|>'] });
  assert.deepEqual(a.bpe.merges, b.bpe.merges);
  assert.equal(a.vocabSize, 272);
  assert.deepEqual(a.bpe.merges[0], ['a', 't']); // "at" occurs in cat, sat, mat, ate, rat, hat, bat
  assert.equal(a.specialId('<|endoftext|>'), 270);
  assert.equal(a.specialId('<|pad|>'), 271);
  const ids = a.encode(TEXT);
  assert.equal(a.decode(ids), TEXT);
  assert.ok(ids.length < new TextEncoder().encode(TEXT).length / 2, 'merges should compress the training text');
  assert.ok(a.encode(' the cat').length <= 2);
});

test('minFrequency stops early; bad vocab sizes are rejected', () => {
  const counter = new WordCounter();
  counter.add('ab ab cd ab');
  // words: "ab", " ab" x2, " cd": a+b occurs 3 times, then Ġ+ab twice, everything else once.
  const tok = trainBpe(counter.counts, { vocabSize: 1000, minFrequency: 2, specialTokens: [] });
  assert.deepEqual(tok.bpe.merges, [
    ['a', 'b'],
    ['Ġ', 'ab'],
  ]);
  assert.equal(trainBpe(counter.counts, { vocabSize: 1000, minFrequency: 1, specialTokens: [] }).bpe.merges.length, 4);
  assert.throws(
    () => trainBpe(counter.counts, { vocabSize: 100 }),
    /vocabSize must be an integer >= 256 \+ 1 special tokens/,
  );
});

test('training streams plain and gzip files; cl100k splitting caps digit runs', async () => {
  const dir = tempDir('bpe');
  writeFileSync(join(dir, 'a.txt'), TEXT);
  writeFileSync(join(dir, 'b.txt.gz'), gzipSync(TEXT));
  const tok = await trainBpeFromFiles([join(dir, 'a.txt'), join(dir, 'b.txt.gz')], { vocabSize: 320 });
  assert.equal(tok.decode(tok.encode(TEXT)), TEXT);
  const c = new WordCounter('cl100k');
  c.add('1234567 abc');
  assert.deepEqual([...c.counts.keys()], ['123', '456', '7', ' abc']);
});

test('a trained tokenizer saved as tokenizer.json reloads and encodes identically', () => {
  const counter = new WordCounter('cl100k');
  counter.add(TEXT);
  const tok = trainBpe(counter.counts, { vocabSize: 320, pretokenizer: 'cl100k' });
  const dir = tempDir('tok');
  tok.extras.chatTemplate = '{{ messages }}';
  saveTokenizer(dir, tok);
  const back = loadTokenizerJson(dir);
  assert.equal(back.pretokenizer, 'cl100k');
  assert.deepEqual(back.encode(TEXT), tok.encode(TEXT));
  assert.deepEqual(
    back.encode('x<|endoftext|>y', { special: 'allow' }),
    tok.encode('x<|endoftext|>y', { special: 'allow' }),
  );
  assert.equal(back.extras.chatTemplate, '{{ messages }}');
});

test('malformed tokenizer files name the file, the location and what was expected', () => {
  assert.throws(() => parseTokenizerJson('{"model": ', 'bad.json'), /bad.json: not valid JSON/);
  assert.throws(
    () => parseTokenizerJson('{"model": {"type": "WordPiece"}}', 'x.json'),
    /x.json: at \$.model.type: expected "BPE", received "WordPiece"/,
  );
  assert.throws(
    () => parseTokenizerJson('{"model": {"vocab": {"a": "1"}, "merges": []}}', 'x.json'),
    /at \$.model.vocab\["a"\]: expected an integer id/,
  );
  assert.throws(
    () =>
      parseTokenizerJson('{"model": {"vocab": {}, "merges": [1]}, "pre_tokenizer": {"type": "ByteLevel"}}', 'x.json'),
    /at \$.model.merges\[0\]: expected "left right"/,
  );
  assert.throws(
    () =>
      parseTokenizerJson('{"model": {"vocab": {}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}', 'x.json'),
    /x.json: the vocabulary lacks the single-byte token for byte 0/,
  );
  assert.throws(
    () => parseMerges('#version: 0.2\na b\nc d e\n', 'vocab.bpe'),
    /vocab.bpe:3: expected a merge "left right"/,
  );
});

test('character tokenizer', () => {
  const t = CharTokenizer.fromText('hello world');
  assert.equal(t.vocabSize, 8);
  assert.deepEqual(t.encode('hello'), [3, 2, 4, 4, 5]);
  assert.equal(t.decode(t.encode('world hello')), 'world hello');
  assert.throws(() => t.encode('hex'), /character "x" at offset 2 is not in the vocabulary/);
  assert.deepEqual(CharTokenizer.fromText('a👍b').chars, ['a', 'b', '👍']);
});
