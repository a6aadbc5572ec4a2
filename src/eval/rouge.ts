/**
 * Text-overlap metrics for instruction-following evaluation: exact match (after trimming and collapsing
 * whitespace) and ROUGE-L, the F-measure of the longest common subsequence of lower-cased word tokens between a
 * candidate and a reference (precision LCS/|candidate|, recall LCS/|reference|, F1 = 2PR/(P+R)).
 */

/** Lower-cased word tokens: runs of letters and digits (Unicode-aware); punctuation is dropped. */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Length of the longest common subsequence of two token lists (two rolling rows, O(|a| |b|) time). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

export interface RougeL {
  precision: number;
  recall: number;
  f1: number;
}

/** ROUGE-L of `candidate` against `reference`; all zeros when either has no tokens. */
export function rougeL(candidate: string, reference: string): RougeL {
  const c = rougeTokens(candidate);
  const r = rougeTokens(reference);
  const lcs = lcsLength(c, r);
  if (lcs === 0) return { precision: 0, recall: 0, f1: 0 };
  const precision = lcs / c.length;
  const recall = lcs / r.length;
  return { precision, recall, f1: (2 * precision * recall) / (precision + recall) };
}

/** True when the two texts are equal after trimming and collapsing runs of whitespace. */
export function exactMatch(candidate: string, reference: string): boolean {
  const norm = (s: string): string => s.trim().replace(/\s+/g, ' ');
  return norm(candidate) === norm(reference);
}
