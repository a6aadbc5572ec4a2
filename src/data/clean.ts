/**
 * The document cleaning pass: Unicode NFC and whitespace normalisation, quality filters, exact deduplication (a
 * SHA-1 of the normalised text), MinHash/LSH near-duplicate removal and optional PII scrubbing, applied to one
 * document at a time in that order. A `Cleaner` keeps the dedup state across all sources and the report: documents
 * seen, kept and dropped per reason, and PII replacements per kind.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_FILTERS, qualityReason, type FilterOptions, type FilterReason } from './filters.ts';
import { DEFAULT_MINHASH, minhashSignature, NearDupIndex, type MinHashOptions } from './minhash.ts';
import { DataError } from './errors.ts';
import { emptyPiiCounts, scrubPii, type PiiKind } from './pii.ts';

export interface CleanOptions {
  /** NFC and whitespace normalisation (default true). */
  normalize: boolean;
  /** Drop exact duplicates of the normalised text (default true). */
  dedup: boolean;
  /** Drop near duplicates by MinHash/LSH (default true). */
  nearDedup: boolean;
  minhash: MinHashOptions;
  /** Quality filters, or false for none (default DEFAULT_FILTERS). */
  filters: FilterOptions | false;
  /** Replace e-mails, phones and IP addresses with placeholders (default false). */
  pii: boolean;
}

export const DEFAULT_CLEAN: CleanOptions = {
  normalize: true,
  dedup: true,
  nearDedup: true,
  minhash: DEFAULT_MINHASH,
  filters: DEFAULT_FILTERS,
  pii: false,
};

/** Cleaning options as users give them: any subset, nested filter and MinHash settings included. */
export type CleanConfig = Partial<Omit<CleanOptions, 'filters' | 'minhash'>> & {
  filters?: Partial<FilterOptions> | false;
  minhash?: Partial<MinHashOptions>;
};

function merge<T extends object>(defaults: T, given: unknown, where: string): T {
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    throw new DataError(`${where}: expected an object, received ${JSON.stringify(given)}`);
  for (const [k, v] of Object.entries(given)) {
    if (!(k in defaults))
      throw new DataError(`${where}: unknown key "${k}" (expected one of: ${Object.keys(defaults).join(', ')})`);
    const d = (defaults as Record<string, unknown>)[k];
    if (typeof d === 'number' && (typeof v !== 'number' || !Number.isFinite(v)))
      throw new DataError(`${where}.${k}: expected a number, received ${JSON.stringify(v)}`);
    if (typeof d === 'boolean' && typeof v !== 'boolean')
      throw new DataError(`${where}.${k}: expected true or false, received ${JSON.stringify(v)}`);
  }
  return { ...defaults, ...(given as Partial<T>) };
}

/** Complete cleaning options from a partial config (defaults filled in; unknown keys and wrong types are errors). */
export function resolveCleanOptions(config: CleanConfig = {}): CleanOptions {
  const { filters, minhash, ...rest } = config;
  const top = merge(
    {
      normalize: DEFAULT_CLEAN.normalize,
      dedup: DEFAULT_CLEAN.dedup,
      nearDedup: DEFAULT_CLEAN.nearDedup,
      pii: DEFAULT_CLEAN.pii,
    },
    rest,
    'clean',
  );
  return {
    ...top,
    filters: filters === false ? false : merge(DEFAULT_FILTERS, filters ?? {}, 'clean.filters'),
    minhash: merge(DEFAULT_MINHASH, minhash ?? {}, 'clean.minhash'),
  };
}

export type DropReason = 'empty' | FilterReason | 'duplicate' | 'near_duplicate';

export interface CleanReport {
  documents: number;
  kept: number;
  dropped: Partial<Record<DropReason, number>>;
  pii: Record<PiiKind, number>;
}

/** Zero-width space, non-joiner, joiner, word joiner and BOM. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each zero-width character (ZWJ included) is removed on its own
const ZERO_WIDTH = /[\u200b\u200c\u200d\u2060\ufeff]/g;

/** NFC, LF line ends, ordinary spaces for exotic ones, no zero-width characters, no trailing spaces, at most one blank line in a row, trimmed. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(ZERO_WIDTH, '')
    .replace(/[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
    .replace(/[ \t\f\v]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export type CleanResult = { kept: true; text: string } | { kept: false; reason: DropReason };

export class Cleaner {
  readonly opts: CleanOptions;
  private readonly seen = new Set<string>();
  private readonly index: NearDupIndex | null;
  private readonly rep: CleanReport = { documents: 0, kept: 0, dropped: {}, pii: emptyPiiCounts() };

  constructor(opts: CleanConfig = {}) {
    this.opts = resolveCleanOptions(opts);
    this.index = this.opts.nearDedup ? new NearDupIndex(this.opts.minhash) : null;
  }

  private drop(reason: DropReason): CleanResult {
    this.rep.dropped[reason] = (this.rep.dropped[reason] ?? 0) + 1;
    return { kept: false, reason };
  }

  /** Cleans one document: its new text, or the reason it is dropped. */
  process(raw: string): CleanResult {
    this.rep.documents++;
    let text = this.opts.normalize ? normalizeText(raw) : raw;
    if (text.trim() === '') return this.drop('empty');
    if (this.opts.filters) {
      const reason = qualityReason(text, this.opts.filters);
      if (reason) return this.drop(reason);
    }
    if (this.opts.dedup) {
      const key = createHash('sha1').update(text).digest('base64');
      if (this.seen.has(key)) return this.drop('duplicate');
      this.seen.add(key);
    }
    if (this.index?.checkAndAdd(minhashSignature(text, this.opts.minhash))) return this.drop('near_duplicate');
    if (this.opts.pii) {
      const r = scrubPii(text);
      text = r.text;
      for (const k of Object.keys(r.counts) as PiiKind[]) this.rep.pii[k] += r.counts[k];
    }
    this.rep.kept++;
    return { kept: true, text };
  }

  report(): CleanReport {
    return {
      documents: this.rep.documents,
      kept: this.rep.kept,
      dropped: { ...this.rep.dropped },
      pii: { ...this.rep.pii },
    };
  }
}
