/**
 * Interoperability with the Hugging Face ecosystem: tokenizer.json files we write open in
 * @huggingface/tokenizers (Hugging Face's own JavaScript port of `tokenizers`, an independent implementation)
 * and encode to the same ids, for both pre-tokenizers, special tokens included. The training text is the toy world
 * plus one of this repository's source files (English comments and code); the same check on a real short story
 * (the-verdict.txt) is in test-data/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { toTokenizerJson } from '../../src/tokenizer/hf-json.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { readFileSync } from 'node:fs';
import { generateToyWorld } from '../../src/data/toy-world.ts';

const corpus = `${generateToyWorld({ documents: 300 }).join('\n\n')}\n\n${readFileSync('src/tokenizer/train-bpe.ts', 'utf8').replaceAll('<|', '<')}`; // special tokens only where probed
const probe = [
  corpus.slice(0, 4000),
  "It's 2024: numbers 1234567 and 3.14159, CAPS'LL and we'RE here.",
  'Crème brûlée 日本語 👍🏽 \t tabs\n\n\nnewlines   spaces  ',
].join('\n');

for (const pre of ['gpt2', 'cl100k'] as const) {
  test(`our ${pre} tokenizer.json opens in @huggingface/tokenizers with identical ids`, () => {
    const counter = new WordCounter(pre);
    counter.add(corpus);
    const ours = trainBpe(counter.counts, {
      vocabSize: 600,
      pretokenizer: pre,
      specialTokens: ['<|endoftext|>', '<|im_start|>'],
    });
    const json = JSON.parse(JSON.stringify(toTokenizerJson(ours))) as Record<string, unknown>;
    const hf = new HfTokenizer(json, {});
    for (const text of probe.split('\n')) {
      assert.deepEqual(hf.encode(text).ids, ours.encode(text), `${pre}: ${JSON.stringify(text.slice(0, 60))}`);
    }
    const withSpecial = 'a<|im_start|>b<|endoftext|>';
    assert.deepEqual(hf.encode(withSpecial).ids, ours.encode(withSpecial, { special: 'allow' }));
    assert.equal(hf.decode(ours.encode(probe)), probe);
  });
}
