/**
 * Mixtures of sources, as GPT-3 mixed Common Crawl, WebText2, Books and Wikipedia: each source gets a weight, its
 * share of the training tokens. `loadMixture` reads the JSON config (unknown keys are an error naming the key);
 * `planMixture` turns weights and each source's available tokens into target tokens and epochs (a source smaller
 * than its share repeats, a larger one is subsampled); `sampleDocuments` picks the documents that meet a target.
 */
import { readFileSync } from 'node:fs';
import { type Rng, shuffleInPlace } from '../tensor/random.ts';
import { DataError } from './errors.ts';
import type { SourceSpec } from './sources.ts';

export interface MixtureConfig {
  sources: SourceSpec[];
  /** Fraction of documents held out for validation. */
  valFraction?: number;
  /** 'document' (whole documents by seeded hash) or 'tail' (the end of every document). */
  valSplit?: 'document' | 'tail';
  seed?: number;
  /** Total training tokens to write (default: the sum of the sources' available tokens). */
  trainTokens?: number;
}

const TOP_KEYS = ['sources', 'val_fraction', 'val_split', 'seed', 'train_tokens'];
const SOURCE_KEYS = ['name', 'path', 'field', 'weight', 'paragraphs'];

function checkKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw new DataError(`${where}: unknown key "${k}" (expected one of: ${allowed.join(', ')})`);
  }
}

function num(v: unknown, where: string, lo: number, hi: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new DataError(
      `${where}: expected ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], received ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** Parses a mixture document; `file` names it in errors. */
export function parseMixture(text: string, file: string): MixtureConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new DataError(`${file}: expected a JSON object {"sources": [...]}`);
  const o = doc as Record<string, unknown>;
  checkKeys(o, TOP_KEYS, file);
  if (!Array.isArray(o.sources) || o.sources.length === 0)
    throw new DataError(`${file}: "sources" must be a non-empty array`);
  const names = new Set<string>();
  const sources = o.sources.map((s: unknown, i): SourceSpec => {
    const where = `${file}: sources[${i}]`;
    if (s === null || typeof s !== 'object' || Array.isArray(s))
      throw new DataError(`${where}: expected an object {"path": ..., "weight": ...}`);
    const e = s as Record<string, unknown>;
    checkKeys(e, SOURCE_KEYS, where);
    if (typeof e.path !== 'string' || e.path === '')
      throw new DataError(`${where}.path: expected a file, directory or glob string`);
    const name = e.name === undefined ? e.path : e.name;
    if (typeof name !== 'string' || name === '') throw new DataError(`${where}.name: expected a non-empty string`);
    if (names.has(name)) throw new DataError(`${where}.name: "${name}" is used by another source`);
    names.add(name);
    if (e.field !== undefined && typeof e.field !== 'string') throw new DataError(`${where}.field: expected a string`);
    if (e.paragraphs !== undefined && typeof e.paragraphs !== 'boolean')
      throw new DataError(`${where}.paragraphs: expected true or false`);
    const spec: SourceSpec = { name, path: e.path };
    if (e.field !== undefined) spec.field = e.field as string;
    if (e.paragraphs !== undefined) spec.paragraphs = e.paragraphs as boolean;
    if (e.weight !== undefined) spec.weight = num(e.weight, `${where}.weight`, 0, Number.MAX_VALUE);
    return spec;
  });
  const weighted = sources.filter((s) => s.weight !== undefined).length;
  if (weighted !== 0 && weighted !== sources.length)
    throw new DataError(`${file}: give every source a "weight" or none (${weighted} of ${sources.length} have one)`);
  if (weighted > 0 && sources.every((s) => s.weight === 0)) throw new DataError(`${file}: the weights sum to 0`);
  const cfg: MixtureConfig = { sources };
  if (o.val_fraction !== undefined) cfg.valFraction = num(o.val_fraction, `${file}: val_fraction`, 0, 0.5);
  if (o.val_split !== undefined) {
    if (o.val_split !== 'document' && o.val_split !== 'tail')
      throw new DataError(`${file}: val_split: expected "document" or "tail", received ${JSON.stringify(o.val_split)}`);
    cfg.valSplit = o.val_split;
  }
  if (o.seed !== undefined) cfg.seed = num(o.seed, `${file}: seed`, 0, 2 ** 31 - 1, true);
  if (o.train_tokens !== undefined)
    cfg.trainTokens = num(o.train_tokens, `${file}: train_tokens`, 1, Number.MAX_SAFE_INTEGER, true);
  return cfg;
}

export function loadMixture(path: string): MixtureConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(
      `${path}: cannot read mixture file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return parseMixture(text, path);
}

export interface MixPlanEntry {
  name: string;
  /** Normalised weight, or null for the natural share. */
  weight: number | null;
  availableTokens: number;
  targetTokens: number;
  epochs: number;
}

/** Target tokens per source: weight x total (total defaults to all available tokens); natural shares without weights. */
export function planMixture(
  sources: readonly { name: string; weight?: number; availableTokens: number }[],
  trainTokens?: number,
): MixPlanEntry[] {
  const available = sources.reduce((a, s) => a + s.availableTokens, 0);
  const total = trainTokens ?? available;
  const weighted = sources.some((s) => s.weight !== undefined);
  const wsum = sources.reduce((a, s) => a + (s.weight ?? 0), 0);
  return sources.map((s) => {
    const weight = weighted ? (s.weight ?? 0) / wsum : null;
    const share = weight ?? (available > 0 ? s.availableTokens / available : 0);
    const targetTokens = Math.round(share * total);
    if (targetTokens > 0 && s.availableTokens === 0)
      throw new DataError(
        `source "${s.name}": no training tokens are left after cleaning, but its weight asks for ${targetTokens}`,
      );
    return {
      name: s.name,
      weight,
      availableTokens: s.availableTokens,
      targetTokens,
      epochs: s.availableTokens > 0 ? targetTokens / s.availableTokens : 0,
    };
  });
}

/**
 * Document indices (with repeats) whose token counts sum to about `target`: whole passes over all documents while a
 * full epoch fits, then a random subset for the remainder (a document is taken while the running total stays
 * under the remainder, or when it is closer to it taken than not).
 */
export function sampleDocuments(docTokens: ArrayLike<number>, target: number, rng: Rng): Uint32Array {
  const n = docTokens.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += docTokens[i]!;
  const out: number[] = [];
  if (total === 0 || target <= 0) return new Uint32Array(0);
  let remaining = target;
  while (remaining >= total) {
    for (let i = 0; i < n; i++) out.push(i);
    remaining -= total;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, rng);
  for (const i of order) {
    if (remaining <= 0) break;
    const t = docTokens[i]!;
    if (t <= remaining || t - remaining < remaining) {
      out.push(i);
      remaining -= t;
    }
  }
  return Uint32Array.from(out);
}
