/**
 * Interoperability with @huggingface/tokenizers on a real text: BPE tokenizers trained on the-verdict.txt (both
 * pre-tokenizers, 600 tokens, two special tokens) and written as tokenizer.json open in Hugging Face's JavaScript
 * port of `tokenizers` and encode the story to the same ids (the default suite does this on synthetic text).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { toTokenizerJson } from '../src/tokenizer/hf-json.ts';
import { trainBpe, WordCounter } from '../src/tokenizer/train-bpe.ts';
import { dataPath } from './data-dir.ts';

const corpus = readFileSync(dataPath('llms-from-scratch/the-verdict.txt'), 'utf8');

for (const pre of ['gpt2', 'cl100k'] as const) {
  test(`the-verdict: our ${pre} tokenizer.json opens in @huggingface/tokenizers with identical ids`, () => {
    const counter = new WordCounter(pre);
    counter.add(corpus);
    const ours = trainBpe(counter.counts, {
      vocabSize: 600,
      pretokenizer: pre,
      specialTokens: ['<|endoftext|>', '<|im_start|>'],
    });
    assert.equal(ours.vocabSize, 600);
    const hf = new HfTokenizer(JSON.parse(JSON.stringify(toTokenizerJson(ours))) as Record<string, unknown>, {});
    for (const line of corpus.split('\n'))
      assert.deepEqual(hf.encode(line).ids, ours.encode(line), `${pre}: ${JSON.stringify(line.slice(0, 60))}`);
    assert.deepEqual(hf.encode(corpus).ids, ours.encode(corpus));
    // Hugging Face's decode drops the spaces in ". . ." unless told not to clean up tokenization spaces.
    assert.equal(hf.decode(ours.encode(corpus), { clean_up_tokenization_spaces: false }), corpus);
  });
}
