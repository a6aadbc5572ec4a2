/**
 * Opens a tokenizer from a path a user gives: a tokenizer.json file, or a directory holding tokenizer.json (plus
 * tokenizer_config.json), OpenAI's encoder.json + vocab.bpe, or Hugging Face's vocab.json + merges.txt.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerFormatError } from './bpe.ts';
import { loadGpt2Files, loadHfVocabMerges } from './gpt2-files.ts';
import { loadTokenizerJson } from './hf-json.ts';
import type { Tokenizer } from './tokenizer.ts';

export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path))
    throw new TokenizerFormatError(
      `${path}: no such file or directory (expected a tokenizer.json or a directory holding one)`,
    );
  if (!statSync(path).isDirectory()) return loadTokenizerJson(path);
  if (existsSync(join(path, 'tokenizer.json'))) return loadTokenizerJson(path);
  if (existsSync(join(path, 'encoder.json')) && existsSync(join(path, 'vocab.bpe'))) {
    return loadGpt2Files(join(path, 'encoder.json'), join(path, 'vocab.bpe'));
  }
  if (existsSync(join(path, 'vocab.json')) && existsSync(join(path, 'merges.txt'))) return loadHfVocabMerges(path);
  throw new TokenizerFormatError(
    `${path}: the directory holds neither tokenizer.json, encoder.json + vocab.bpe nor vocab.json + merges.txt`,
  );
}
