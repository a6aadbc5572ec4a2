/**
 * Stage `tokenizer`: trains a byte-level BPE tokenizer on a corpus (an earlier stage's corpus, or a path: .jsonl
 * reads one field of each line, any other file is read as text) and saves it as tokenizer.json in the stage
 * directory.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { saveTokenizer } from '../../tokenizer/hf-json.ts';
import { isPretokenizerName, type PretokenizerName } from '../../tokenizer/pretokenize.ts';
import { trainBpe, WordCounter } from '../../tokenizer/train-bpe.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

/** Counts the words of a corpus file; `.jsonl` lines contribute their `field` string. */
export async function countCorpusWords(path: string, field: string, counter: WordCounter): Promise<number> {
  if (!path.endsWith('.jsonl')) {
    await counter.addFile(path);
    return 0;
  }
  let docs = 0;
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    let text: unknown;
    try {
      text = (JSON.parse(line) as Record<string, unknown>)[field];
    } catch {
      throw new RecipeError(`${path}:${lineNo}: not a JSON object`);
    }
    if (typeof text !== 'string') throw new RecipeError(`${path}:${lineNo}: field "${field}" is not a string`);
    counter.add(text);
    docs++;
  }
  return docs;
}

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
    if (!isPretokenizerName(p.pretokenizer)) throw new RecipeError(`pretokenizer must be gpt2 or cl100k, received "${p.pretokenizer}"`);
  },
  outputs: (ctx) => ({ tokenizer: ctx.dir, tokenizerJson: join(ctx.dir, 'tokenizer.json') }),
  async run(ctx, p) {
    const pretokenizer = p.pretokenizer as PretokenizerName;
    const path = ctx.input(p.corpus, 'corpus');
    const counter = new WordCounter(pretokenizer);
    try {
      await countCorpusWords(path, p.field, counter);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw new RecipeError(`stage ${ctx.name}: cannot read corpus ${path} (${(e as NodeJS.ErrnoException).code})`);
      throw e;
    }
    const tok = trainBpe(counter.counts, { vocabSize: p.vocabSize, minFrequency: p.minFrequency, specialTokens: p.special, pretokenizer, progress: !ctx.quiet });
    saveTokenizer(ctx.dir, tok);
    ctx.log(`trained ${tok.vocabSize} tokens (${tok.bpe.merges.length} merges) on ${(counter.bytes / 1e3).toFixed(0)} kB; wrote ${join(ctx.dir, 'tokenizer.json')}`);
  },
});
