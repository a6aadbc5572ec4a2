/**
 * Streaming text from generated ids: with the GPT-2 BPE tokenizer (its own stream decoder), the character
 * tokenizer and a plain byte-level TextTokenizer (incremental decode), the pieces concatenate to the decoded text
 * and no piece ever holds half a character (U+FFFD).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextStream } from '../../src/generate/text-stream.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { loadTokenizer } from '../../src/tokenizer/load.ts';
import type { TextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { gpt2TokenizerDir } from '../helpers/gpt2-tokenizer.ts';

const TEXT = 'héllo wörld, 世界 🙂 naïve — done.\n';

function pieces(tok: TextTokenizer, ids: number[]): { parts: string[]; flushed: string } {
  const s = new TextStream(tok);
  const parts = ids.map((id) => s.push(id));
  return { parts, flushed: s.flush() };
}

test('GPT-2 BPE: pieces join to the text, multi-byte characters never split', () => {
  const tok = loadTokenizer(gpt2TokenizerDir());
  const ids = tok.encode(TEXT);
  assert.ok(
    ids.some((id) => tok.decode([id]).includes('\ufffd')),
    'the sample has tokens holding partial characters',
  );
  const { parts, flushed } = pieces(tok, ids);
  assert.equal(parts.join('') + flushed, TEXT);
  assert.ok(parts.every((p) => !p.includes('\ufffd')));
});

test('character tokenizer: one character per id', () => {
  const tok = CharTokenizer.fromText(TEXT);
  const { parts, flushed } = pieces(tok, tok.encode(TEXT));
  assert.deepEqual(parts, Array.from(TEXT));
  assert.equal(flushed, '');
});

test('a byte-level TextTokenizer without a stream decoder: incomplete characters held back, flushed as U+FFFD', () => {
  const bytes: TextTokenizer = {
    vocabSize: 256,
    encode: (text) => Array.from(new TextEncoder().encode(text)),
    decode: (ids) => new TextDecoder().decode(Uint8Array.from(ids)),
  };
  const { parts, flushed } = pieces(bytes, bytes.encode(TEXT));
  assert.equal(parts.join('') + flushed, TEXT);
  assert.ok(parts.every((p) => !p.includes('\ufffd')));
  assert.ok(parts.includes(''), 'bytes of a multi-byte character wait for the last one');
  const cut = pieces(bytes, [0x61, 0xe4, 0xb8]); // "a" then two of the three bytes of 世
  assert.deepEqual(cut.parts, ['a', '', '']);
  assert.equal(cut.flushed, '\ufffd');
  assert.deepEqual(
    pieces(bytes, [0x61, 300, 0x62]).parts,
    ['a', '', 'b'],
    'an id beyond the tokenizer (padded model vocabulary) has no text',
  );
});
