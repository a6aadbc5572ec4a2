/**
 * `meta.json`, the record a prepared dataset directory carries beside its shards: vocabulary size and token dtype,
 * where its tokenizer is saved, per split the tokens, source UTF-8 bytes, documents and shard files, the per-source
 * mixture report, the cleaning report and the options used. It is written last, so its presence marks a complete
 * dataset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CleanReport } from './clean.ts';
import { DataError } from './errors.ts';
import type { TokenDtype } from './shards.ts';

export const META_FILE = 'meta.json';
export const META_FORMAT = 'llmforge-tokens';

export type Split = 'train' | 'val';

export interface SplitMeta {
  tokens: number;
  /** UTF-8 bytes of the documents' text (repeats included), for bits per byte. */
  bytes: number;
  documents: number;
  shards: string[];
}

export interface SourceReport {
  name: string;
  path: string;
  files: number;
  /** Documents read and kept after cleaning. */
  documents: number;
  kept: number;
  /** Mixture weight as given (normalised), or null for the natural share. */
  weight: number | null;
  /** Training tokens available after cleaning (one epoch). */
  availableTokens: number;
  /** Training tokens written (the mixture's share of this source). */
  trainTokens: number;
  /** trainTokens / availableTokens: above 1 the source repeats, below 1 it is subsampled. */
  epochs: number;
  /** Share of the written training tokens. */
  share: number;
  valTokens: number;
}

export interface DatasetMeta {
  format: typeof META_FORMAT;
  version: 1;
  vocabSize: number;
  dtype: TokenDtype;
  /** The id separating documents, or null when the tokenizer has none (documents are then concatenated). */
  eosId: number | null;
  /** Directory (relative to the dataset) holding the tokenizer. */
  tokenizer: string;
  splits: Record<Split, SplitMeta>;
  sources: SourceReport[];
  cleaning: CleanReport;
  options: Record<string, unknown>;
}

/** Reads and checks `<dir>/meta.json`. */
export function readMeta(dir: string): DatasetMeta {
  const path = join(dir, META_FILE);
  if (!existsSync(path))
    throw new DataError(
      `${path}: not found; is ${dir} a prepared dataset? (run \`llmforge data prepare --out ${dir} ...\` first)`,
    );
  let meta: DatasetMeta;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as DatasetMeta;
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (meta.format !== META_FORMAT)
    throw new DataError(`${path}: format ${JSON.stringify(meta.format)} is not "${META_FORMAT}"`);
  if (meta.version !== 1) throw new DataError(`${path}: version ${meta.version} is not supported (expected 1)`);
  for (const split of ['train', 'val'] as const) {
    const s = meta.splits?.[split];
    if (!s || !Array.isArray(s.shards) || typeof s.tokens !== 'number')
      throw new DataError(`${path}: splits.${split} is missing or malformed`);
  }
  return meta;
}
