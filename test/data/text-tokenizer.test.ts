/**
 * The TextTokenizer contract: char and BPE tokenizers save and load through one pair of functions with identical
 * ids, eosId finds <|endoftext|> (or none), and document encoding treats special-token text as plain text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { encodeDocument, eosId, loadTextTokenizer, saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { WordCounter, trainBpe } from '../../src/tokenizer/train-bpe.ts';
import { gpt2TokenizerDir } from '../helpers/gpt2-tokenizer.ts';
import { tempDir } from './helpers.ts';

test('char tokenizer: save, load, identical ids, no EOS', () => {
  const tok = CharTokenizer.fromText('hello world\n');
  const dir = tempDir('tok');
  saveTextTokenizer(dir, tok);
  const back = loadTextTokenizer(dir);
  assert.ok(back instanceof CharTokenizer);
  assert.equal(back.vocabSize, tok.vocabSize);
  assert.deepEqual(back.encode('low hero'), tok.encode('low hero'));
  assert.equal(back.decode(tok.encode('hello')), 'hello');
  assert.equal(eosId(back), undefined);
  writeFileSync(join(dir, 'char-tokenizer.json'), '{"chars":["ab"]}');
  assert.throws(() => loadTextTokenizer(dir), /char-tokenizer\.json: expected \{"type":"char","chars"/);
});

test('BPE tokenizer: save, load, identical ids, EOS id; documents encode special-token text as text', () => {
  const counter = new WordCounter();
  counter.add('the cat sat on the mat. '.repeat(20));
  const tok = trainBpe(counter.counts, { vocabSize: 270, specialTokens: ['<|endoftext|>'] });
  const dir = tempDir('tok');
  saveTextTokenizer(dir, tok);
  const back = loadTextTokenizer(dir);
  assert.equal(back.vocabSize, tok.vocabSize);
  assert.deepEqual(back.encode('the cat'), tok.encode('the cat'));
  const eos = tok.vocabSize - 1;
  assert.equal(eosId(back), eos);
  const ids = encodeDocument(back, 'a <|endoftext|> b');
  assert.ok(!ids.includes(eos));
  assert.equal(back.decode(ids), 'a <|endoftext|> b');
  assert.equal(eosId(loadTextTokenizer(gpt2TokenizerDir())), 50256);
});
