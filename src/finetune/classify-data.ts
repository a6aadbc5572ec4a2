/**
 * Classification data: labelled texts read from TSV (label, a tab, then the text: split on the FIRST tab, as in
 * the SMS Spam collection), CSV (a header row with `label` and `text` columns, quoted fields allowed) or JSONL
 * (`{"text":..,"label":..}` per line); a stratified train/validation/test split that keeps each class's share in
 * every part; class balancing by undersampling, oversampling or inverse-frequency class weights; and tokenizing
 * with truncation to a maximum length. Mistakes in a file give one error naming the file and line.
 */
import { readFileSync } from 'node:fs';
import { Rng, shuffled, shuffleInPlace } from '../tensor/random.ts';
import { UserError } from '../util/user-error.ts';

export interface LabeledText {
  text: string;
  label: string;
}

export type Balance = 'none' | 'undersample' | 'oversample' | 'weights';

export class ClassifyDataError extends UserError {}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses labelled texts from `content`; the format comes from `path`'s extension (.jsonl, .csv, else TSV). */
export function parseClassifyData(content: string, path: string): LabeledText[] {
  const lines = content.split(/\r?\n/);
  const out: LabeledText[] = [];
  const ext = path.toLowerCase();
  if (ext.endsWith('.jsonl') || ext.endsWith('.json')) {
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        throw new ClassifyDataError(`${path}:${i + 1}: not valid JSON (expected {"text": ..., "label": ...})`);
      }
      const r = rec as { text?: unknown; label?: unknown };
      if (typeof r.text !== 'string')
        throw new ClassifyDataError(
          `${path}:${i + 1}: field "text" must be a string, received ${JSON.stringify(r.text)}`,
        );
      if (typeof r.label !== 'string' && typeof r.label !== 'number')
        throw new ClassifyDataError(
          `${path}:${i + 1}: field "label" must be a string or number, received ${JSON.stringify(r.label)}`,
        );
      out.push({ text: r.text, label: String(r.label) });
    });
  } else if (ext.endsWith('.csv')) {
    const header = parseCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
    const ti = header.indexOf('text');
    const li = header.indexOf('label');
    if (ti < 0 || li < 0)
      throw new ClassifyDataError(
        `${path}:1: header must name "text" and "label" columns, received ${JSON.stringify(header)}`,
      );
    lines.slice(1).forEach((line, i) => {
      if (line.trim() === '') return;
      const f = parseCsvLine(line);
      if (f.length <= Math.max(ti, li))
        throw new ClassifyDataError(`${path}:${i + 2}: expected ${header.length} fields, received ${f.length}`);
      out.push({ text: f[ti]!, label: f[li]!.trim() });
    });
  } else {
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const tab = line.indexOf('\t');
      if (tab <= 0)
        throw new ClassifyDataError(`${path}:${i + 1}: expected "label<TAB>text", received no tab or an empty label`);
      out.push({ label: line.slice(0, tab).trim(), text: line.slice(tab + 1) });
    });
  }
  if (out.length === 0) throw new ClassifyDataError(`${path}: no examples found`);
  return out;
}

export function readClassifyData(path: string): LabeledText[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ClassifyDataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseClassifyData(content, path);
}

/** The distinct labels, sorted, so a label's index is stable across runs. */
export function labelSet(data: readonly LabeledText[]): string[] {
  return [...new Set(data.map((d) => d.label))].sort();
}

export interface Split<T> {
  train: T[];
  val: T[];
  test: T[];
}

/** Stratified split: each class is shuffled and cut by the fractions, so every part keeps the class shares. */
export function stratifiedSplit<T extends { label: string }>(
  data: readonly T[],
  valFrac: number,
  testFrac: number,
  seed: number,
): Split<T> {
  if (!(valFrac >= 0 && testFrac >= 0 && valFrac + testFrac < 1))
    throw new RangeError(`stratifiedSplit: val ${valFrac} + test ${testFrac} must be non-negative and sum below 1`);
  const rng = new Rng(seed);
  const byLabel = new Map<string, T[]>();
  for (const d of data) byLabel.set(d.label, [...(byLabel.get(d.label) ?? []), d]);
  const out: Split<T> = { train: [], val: [], test: [] };
  for (const label of [...byLabel.keys()].sort()) {
    const items = shuffled(byLabel.get(label)!, rng);
    const nTest = Math.round(items.length * testFrac);
    const nVal = Math.round(items.length * valFrac);
    out.test.push(...items.slice(0, nTest));
    out.val.push(...items.slice(nTest, nTest + nVal));
    out.train.push(...items.slice(nTest + nVal));
  }
  shuffleInPlace(out.train, rng);
  return out;
}

/** Undersample (every class cut to the rarest's count) or oversample (rarer classes repeated up to the largest's). */
export function balance<T extends { label: string }>(data: readonly T[], mode: Balance, seed: number): T[] {
  if (mode === 'none' || mode === 'weights') return [...data];
  const rng = new Rng(seed);
  const byLabel = new Map<string, T[]>();
  for (const d of data) byLabel.set(d.label, [...(byLabel.get(d.label) ?? []), d]);
  const counts = [...byLabel.values()].map((v) => v.length);
  const target = mode === 'undersample' ? Math.min(...counts) : Math.max(...counts);
  const out: T[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const items = shuffled(byLabel.get(label)!, rng);
    for (let i = 0; i < target; i++) out.push(items[i % items.length]!);
  }
  return shuffleInPlace(out, rng);
}

/** Inverse-frequency weights per label index (n / (K * count)), 1 for a class absent from `data`. */
export function classWeights(data: readonly { label: string }[], labels: readonly string[]): number[] {
  const counts = labels.map((l) => data.filter((d) => d.label === l).length);
  return counts.map((c) => (c === 0 ? 1 : data.length / (labels.length * c)));
}

export interface EncodedExample {
  ids: number[];
  label: number;
}

/** Token ids truncated to `maxLength` (the first tokens kept; at least one token: `padId` for an empty text). */
export function encodeExample(
  encode: (text: string) => number[],
  text: string,
  maxLength: number,
  padId: number,
): number[] {
  const ids = encode(text).slice(0, maxLength);
  return ids.length > 0 ? ids : [padId];
}

/** Rows padded on the right to the longest row with `padId`: ids (B*T) and each row's real length. */
export function padBatch(rows: readonly number[][], padId: number): { ids: Int32Array; lengths: number[]; T: number } {
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  rows.forEach((r, b) => {
    ids.set(r, b * T);
  });
  return { ids, lengths: rows.map((r) => r.length), T };
}
