/**
 * Document quality filters in the spirit of Gopher/C4 heuristics: length bounds (words and characters), the share
 * of symbol characters and of digits among non-space characters, the fraction of lines that repeat an earlier line,
 * and the fraction of words covered by word n-grams that occur more than once. `qualityReason` returns the first
 * rule a document breaks, as a report key, or null when it passes.
 */

export interface FilterOptions {
  /** Fewer words than this is `too_short` (default 3). */
  minWords: number;
  /** More characters than this is `too_long` (default 10,000,000). */
  maxChars: number;
  /** Symbol characters / non-space characters above this is `symbol_ratio` (default 0.3). */
  maxSymbolRatio: number;
  /** Digits / non-space characters above this is `digit_ratio` (default 0.3). */
  maxDigitRatio: number;
  /** Non-empty lines repeating an earlier line / non-empty lines above this is `repeated_lines` (default 0.3). */
  maxRepeatedLines: number;
  /** Words inside a repeated word n-gram / words above this is `repeated_ngrams` (default 0.3). */
  maxRepeatedNgrams: number;
  /** The n of the repeated n-gram rule (default 5). */
  ngram: number;
}

export const DEFAULT_FILTERS: FilterOptions = {
  minWords: 3,
  maxChars: 10_000_000,
  maxSymbolRatio: 0.3,
  maxDigitRatio: 0.3,
  maxRepeatedLines: 0.3,
  maxRepeatedNgrams: 0.3,
  ngram: 5,
};

export type FilterReason =
  | 'too_short'
  | 'too_long'
  | 'symbol_ratio'
  | 'digit_ratio'
  | 'repeated_lines'
  | 'repeated_ngrams';

// Letters, marks, digits, whitespace and ordinary prose punctuation are not "symbols".
const NOT_SYMBOL = /[\p{L}\p{M}\p{N}\s.,;:!?'"()\-\u2018\u2019\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026]/u;
const DIGIT = /\p{Nd}/u;
const WORD = /[\p{L}\p{N}]+(?:['\u2019][\p{L}\p{N}]+)*/gu;

/** Lower-cased words (letter/digit runs, inner apostrophes kept). */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

// ASCII classes for the fast path: 0 whitespace, 1 digit, 2 letter or prose punctuation, 3 symbol.
const ASCII_CLASS = new Uint8Array(128).map((_, c) => {
  const ch = String.fromCharCode(c);
  if (/\s/.test(ch)) return 0;
  if (DIGIT.test(ch)) return 1;
  return NOT_SYMBOL.test(ch) ? 2 : 3;
});

/** Symbol and digit shares among non-whitespace characters. */
export function charRatios(text: string): { symbol: number; digit: number } {
  let nonSpace = 0;
  let symbols = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let cls: number;
    if (code < 128) cls = ASCII_CLASS[code]!;
    else {
      const cp = text.codePointAt(i)!;
      const c = String.fromCodePoint(cp);
      if (cp > 0xffff) i++;
      cls = /\s/u.test(c) ? 0 : DIGIT.test(c) ? 1 : NOT_SYMBOL.test(c) ? 2 : 3;
    }
    if (cls === 0) continue;
    nonSpace++;
    if (cls === 1) digits++;
    else if (cls === 3) symbols++;
  }
  return nonSpace === 0 ? { symbol: 0, digit: 0 } : { symbol: symbols / nonSpace, digit: digits / nonSpace };
}

/** Fraction of non-empty lines (trimmed) that repeat an earlier line. */
export function repeatedLineFraction(text: string): number {
  const seen = new Set<string>();
  let total = 0;
  let repeats = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    total++;
    if (seen.has(line)) repeats++;
    else seen.add(line);
  }
  return total === 0 ? 0 : repeats / total;
}

function fnv1a(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Fraction of words covered by a word n-gram that occurs at least twice (0 when there are fewer than n words).
 * N-grams are keyed by a 53-bit hash of their words, so a (rare) collision can only overstate repetition slightly.
 */
export function repeatedNgramFraction(ws: readonly string[], n: number): number {
  if (ws.length < n) return 0;
  const h1 = ws.map((w) => fnv1a(w, 0x811c9dc5));
  const h2 = ws.map((w) => fnv1a(w, 0x2545f491));
  const keys = new Float64Array(ws.length - n + 1);
  const counts = new Map<number, number>();
  for (let i = 0; i + n <= ws.length; i++) {
    let a = 0x9e3779b9;
    let b = 0x85ebca6b;
    for (let k = 0; k < n; k++) {
      a = Math.imul(a ^ h1[i + k]!, 0x01000193) + k;
      b = Math.imul(b ^ h2[i + k]!, 0x27d4eb2f) + k;
    }
    const key = (a >>> 0) + ((b >>> 0) & 0x1fffff) * 4294967296;
    keys[i] = key;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const covered = new Uint8Array(ws.length);
  for (let i = 0; i < keys.length; i++) if (counts.get(keys[i]!)! > 1) covered.fill(1, i, i + n);
  let c = 0;
  for (const v of covered) c += v;
  return c / ws.length;
}

/** The first quality rule `text` breaks, or null. */
export function qualityReason(text: string, opts: FilterOptions = DEFAULT_FILTERS): FilterReason | null {
  if (text.length > opts.maxChars) return 'too_long';
  const ws = words(text);
  if (ws.length < opts.minWords) return 'too_short';
  const r = charRatios(text);
  if (r.symbol > opts.maxSymbolRatio) return 'symbol_ratio';
  if (r.digit > opts.maxDigitRatio) return 'digit_ratio';
  if (repeatedLineFraction(text) > opts.maxRepeatedLines) return 'repeated_lines';
  if (repeatedNgramFraction(ws, opts.ngram) > opts.maxRepeatedNgrams) return 'repeated_ngrams';
  return null;
}
