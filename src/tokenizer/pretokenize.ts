/**
 * Pre-tokenization: the regular expression that splits text into words before BPE merges apply inside each
 * word. `gpt2` is GPT-2's pattern (contractions, letters, numbers, punctuation runs, whitespace); `cl100k` is the
 * GPT-4 style split that is case-insensitive on contractions, caps digit runs at three, and keeps newlines apart.
 * Node 20's regex engine lacks inline (?i:) groups, so contraction cases are spelled out.
 */

export type PretokenizerName = 'gpt2' | 'cl100k';

const CONTRACTIONS_CI = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";

export const PATTERNS: Record<PretokenizerName, string> = {
  gpt2: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  cl100k: `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`,
};

export function isPretokenizerName(name: string): name is PretokenizerName {
  return name === 'gpt2' || name === 'cl100k';
}

export function pretokenizerRegex(name: PretokenizerName): RegExp {
  return new RegExp(PATTERNS[name], 'gu');
}

/** Splits text into pre-tokenized words (their concatenation is the text). */
export function pretokenize(text: string, re: RegExp): string[] {
  re.lastIndex = 0;
  return text.match(re) ?? [];
}
