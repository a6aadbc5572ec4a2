/**
 * The log-probabilities an API request asks for (`logprobs`): for each generated token, its log-probability and
 * the k most probable alternatives at that position, from the model's own next-token distribution (the log-softmax
 * of the raw logits, before penalties, temperature or filtering: the picture `predict` shows, over HTTP). Each
 * token carries its text as the tokenizer decodes it alone (a piece of a UTF-8 character shows as U+FFFD), its
 * bytes (the token's own bytes for a byte-level BPE tokenizer) and, for completions, its character offset.
 */
import { logSoftmaxRow, topIndices } from '../generate/logits-processors.ts';
import { tokenText } from '../generate/predict.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../tokenizer/tokenizer.ts';

/** One token and its log-probability. */
export interface TokenAlternative {
  token: string;
  logprob: number;
  bytes: number[];
}

/** A generated token's log-probability, with the most probable alternatives at its position (best first). */
export interface TokenLogprob extends TokenAlternative {
  top: TokenAlternative[];
  /** Offset of the token's text in prompt + completion, in characters (Unicode code points). */
  textOffset: number;
}

/** OpenAI reports "impossible" as -9999 (JSON has no -Infinity). */
const FLOOR = -9999;

function tokenBytes(tokenizer: TextTokenizer, id: number, text: string): number[] {
  if (id >= tokenizer.vocabSize) return [];
  if (tokenizer instanceof Tokenizer) {
    try {
      return Array.from(tokenizer.decodeBytes([id]));
    } catch {
      return []; // an id without bytes (a hole in the vocabulary)
    }
  }
  return Array.from(new TextEncoder().encode(text));
}

function alternative(tokenizer: TextTokenizer, id: number, logprob: number): TokenAlternative {
  const token = tokenText(tokenizer, id);
  return { token, logprob: Number.isFinite(logprob) ? logprob : FLOOR, bytes: tokenBytes(tokenizer, id, token) };
}

/** The entry of token `id` chosen from `logits`, with the `top` most probable alternatives. */
export function tokenLogprob(
  tokenizer: TextTokenizer,
  logits: ArrayLike<number>,
  id: number,
  top: number,
  textOffset: number,
): TokenLogprob {
  const lp = logSoftmaxRow(logits);
  const best = top > 0 ? topIndices(Float32Array.from(logits), top) : new Int32Array(0);
  return {
    ...alternative(tokenizer, id, lp[id]!),
    top: Array.from(best, (j) => alternative(tokenizer, j, lp[j]!)),
    textOffset,
  };
}

/** Length of a text in Unicode code points. */
export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
