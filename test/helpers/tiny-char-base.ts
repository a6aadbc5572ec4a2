/**
 * The tiny base model the command-line tests of `eval ppl` and `finetune domain` run on: a character tokenizer
 * over a short repeated text, a freshly initialised one-layer GPT-2 (context 32, seed 4) saved with it as a model
 * directory, and two text files to score or train on (the whole text as .txt, two short records as .jsonl).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';

export const TINY_TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(20);

export interface TinyCharBase {
  tok: CharTokenizer;
  /** The model directory (weights, config and tokenizer). */
  base: string;
  /** TINY_TEXT as a plain text file. */
  a: string;
  /** Two short `{"text": ...}` records as JSONL. */
  b: string;
}

/** Writes the tiny base to `<dir>/base` and the text files to `<dir>/a.txt` and `<dir>/b.jsonl`. */
export function tinyCharBase(dir: string): TinyCharBase {
  const tok = CharTokenizer.fromText(`${TINY_TEXT}\n`);
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(4),
    ),
  );
  saveTextTokenizer(base, tok);
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.jsonl');
  writeFileSync(a, TINY_TEXT);
  writeFileSync(b, `${JSON.stringify({ text: 'the dog sat on the mat.' })}\n${JSON.stringify({ text: 'the cat.' })}\n`);
  return { tok, base, a, b };
}
