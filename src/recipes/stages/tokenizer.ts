/**
 * Stage `tokenizer`: trains a byte-level BPE tokenizer on a corpus (an earlier stage's corpus, or a file,
 * directory or glob read as the data pipeline reads sources: .jsonl gives one field of each line, .gz is
 * decompressed) and saves it as tokenizer.json in the stage directory.
 */
import { join } from 'node:path';
import { readSource } from '../../data/sources.ts';
import { saveTokenizer } from '../../tokenizer/hf-json.ts';
import { isPretokenizerName, type PretokenizerName } from '../../tokenizer/pretokenize.ts';
import { trainBpe, WordCounter } from '../../tokenizer/train-bpe.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

export const tokenizerStage = defineStage({
  type: 'tokenizer',
  summary: 'Train a byte-level BPE tokenizer on a corpus',
  params: {
    corpus: { type: 'string', help: 'an earlier corpus stage, or a corpus file' },
    field: { type: 'string', help: 'the text field of .jsonl corpora', default: 'text' },
    vocabSize: { type: 'integer', help: 'vocabulary size, special tokens included', default: 1024, min: 257 },
    minFrequency: { type: 'integer', help: 'smallest pair count worth merging', default: 2, min: 1 },
    special: { type: 'string[]', help: 'special tokens', default: ['<|endoftext|>'] },
    pretokenizer: { type: 'string', help: 'gpt2 or cl100k', default: 'gpt2' },
  },
  refs: { corpus: 'corpus' },
  check(p) {
    if (!isPretokenizerName(p.pretokenizer))
      throw new RecipeError(`pretokenizer must be gpt2 or cl100k, received "${p.pretokenizer}"`);
  },
  outputs: (ctx) => ({ tokenizer: ctx.dir, tokenizerJson: join(ctx.dir, 'tokenizer.json') }),
  async run(ctx, p) {
    const pretokenizer = p.pretokenizer as PretokenizerName;
    const path = ctx.input(p.corpus, 'corpus');
    const counter = new WordCounter(pretokenizer);
    for await (const doc of readSource({ name: path, path, field: p.field })) counter.add(doc.text);
    const tok = trainBpe(counter.counts, {
      vocabSize: p.vocabSize,
      minFrequency: p.minFrequency,
      specialTokens: p.special,
      pretokenizer,
      progress: !ctx.quiet,
    });
    saveTokenizer(ctx.dir, tok);
    ctx.log(
      `trained ${tok.vocabSize} tokens (${tok.bpe.merges.length} merges) on ${(counter.bytes / 1e3).toFixed(0)} kB; wrote ${join(ctx.dir, 'tokenizer.json')}`,
    );
  },
});
