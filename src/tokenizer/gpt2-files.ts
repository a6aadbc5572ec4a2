/**
 * OpenAI's original GPT-2 tokenizer files: `encoder.json` (token -> id) and `vocab.bpe` (a version line, then
 * one merge "a b" per line). Errors name the file and the line.
 */
import { readFileSync } from 'node:fs';
import { ByteLevelBpe, TokenizerFormatError } from './bpe.ts';
import { Tokenizer } from './tokenizer.ts';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenizerFormatError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Parses merges text: optional "#version" first line, then "a b" per line. */
export function parseMerges(text: string, source: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new TokenizerFormatError(`${source}:${i + 1}: expected a merge "left right" (two tokens separated by one space), received ${JSON.stringify(line)}`);
    }
    merges.push([parts[0]!, parts[1]!]);
  });
  return merges;
}

export function loadGpt2Files(encoderJsonPath: string, vocabBpePath: string): Tokenizer {
  let encoder: unknown;
  try {
    encoder = JSON.parse(readText(encoderJsonPath));
  } catch (e) {
    if (e instanceof TokenizerFormatError) throw e;
    throw new TokenizerFormatError(`${encoderJsonPath}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof encoder !== 'object' || encoder === null || Array.isArray(encoder)) {
    throw new TokenizerFormatError(`${encoderJsonPath}: expected a JSON object mapping token strings to ids`);
  }
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(encoder)) {
    if (typeof id !== 'number') throw new TokenizerFormatError(`${encoderJsonPath}: token ${JSON.stringify(tok)} maps to ${JSON.stringify(id)}, expected an integer id`);
    vocab.set(tok, id);
  }
  const merges = parseMerges(readText(vocabBpePath), vocabBpePath);
  const specials = new Map<string, number>();
  const eot = vocab.get('<|endoftext|>');
  if (eot !== undefined) {
    vocab.delete('<|endoftext|>');
    specials.set('<|endoftext|>', eot);
  }
  const bpe = new ByteLevelBpe(vocab, merges, `${encoderJsonPath} + ${vocabBpePath}`);
  return new Tokenizer(bpe, { pretokenizer: 'gpt2', specialTokens: specials });
}
