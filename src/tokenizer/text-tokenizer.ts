/**
 * The one tokenizer contract the data pipeline, the trainer, generation and recipes share: text -> ids -> text,
 * a vocabulary size and an optional end-of-text id. Both the byte-level BPE `Tokenizer` and the `CharTokenizer`
 * satisfy it; `loadTextTokenizer` / `saveTextTokenizer` store either kind in a directory (BPE as tokenizer.json,
 * or OpenAI's GPT-2 files when loading; characters as char-tokenizer.json).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic.ts';
import { TokenizerFormatError } from './bpe.ts';
import { CharTokenizer } from './char.ts';
import { saveTokenizer } from './hf-json.ts';
import { loadTokenizer } from './load.ts';
import { Tokenizer } from './tokenizer.ts';

export interface TextTokenizer {
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The file a character-level tokenizer is saved as. */
export const CHAR_TOKENIZER_FILE = 'char-tokenizer.json';

/** The id of `<|endoftext|>`, else of the tokenizer's configured EOS special token; undefined when it has none. */
export function eosId(tok: TextTokenizer): number | undefined {
  if (!(tok instanceof Tokenizer)) return undefined;
  const direct = tok.specialId('<|endoftext|>');
  if (direct !== undefined) return direct;
  const config = tok.extras.tokenizerConfig as Record<string, unknown> | undefined;
  const eos = config?.eos_token;
  const text =
    typeof eos === 'string'
      ? eos
      : typeof (eos as { content?: unknown } | undefined)?.content === 'string'
        ? (eos as { content: string }).content
        : undefined;
  return text === undefined ? undefined : tok.specialId(text);
}

/**
 * Encodes document text for training data: special-token text inside a document is encoded as plain text (a
 * corpus must not inject control tokens), which the BPE tokenizer's default would reject.
 */
export function encodeDocument(tok: TextTokenizer, text: string): number[] {
  return tok instanceof Tokenizer ? tok.encode(text, { special: 'text' }) : tok.encode(text);
}

/** Opens a tokenizer directory (char-tokenizer.json, tokenizer.json or encoder.json + vocab.bpe) or tokenizer.json file. */
export function loadTextTokenizer(dir: string): TextTokenizer {
  const charPath = existsSync(dir) && statSync(dir).isDirectory() ? join(dir, CHAR_TOKENIZER_FILE) : dir;
  if (charPath.endsWith(CHAR_TOKENIZER_FILE) && existsSync(charPath)) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(charPath, 'utf8'));
    } catch (e) {
      throw new TokenizerFormatError(`${charPath}: not valid JSON (${(e as Error).message})`);
    }
    const chars = (doc as { chars?: unknown }).chars;
    if (!Array.isArray(chars) || !chars.every((c) => typeof c === 'string' && [...c].length === 1)) {
      throw new TokenizerFormatError(`${charPath}: expected {"type":"char","chars":[one character per entry]}`);
    }
    return new CharTokenizer(chars as string[]);
  }
  return loadTokenizer(dir);
}

/** Saves a tokenizer into `dir` so that `loadTextTokenizer(dir)` opens an identical one. */
export function saveTextTokenizer(dir: string, tok: TextTokenizer): void {
  if (tok instanceof Tokenizer) saveTokenizer(dir, tok);
  else if (tok instanceof CharTokenizer)
    writeJsonAtomic(join(dir, CHAR_TOKENIZER_FILE), { type: 'char', chars: tok.chars });
  else throw new TypeError('saveTextTokenizer: only the BPE Tokenizer and CharTokenizer can be saved');
}
