/**
 * Perplexity of a language model on a token stream or a text, by the sliding-window method of Hugging Face's
 * "perplexity of fixed-length models": windows of `context` tokens start every `stride` tokens, and each window
 * scores only the targets no earlier window scored, so every token after the first is scored exactly once, with as
 * much left context as the window allows (stride = context: disjoint windows, fastest; stride 1: every token sees
 * the full `context` tokens before it, slowest). Windows of equal length run batched, without autograd. The result
 * carries the summed and mean negative log-likelihood (nats), perplexity and, for a text, bits per byte.
 */
import type { LanguageModel } from '../models/model.ts';
import { noGrad } from '../tensor/autograd.ts';
import { encodeDocument, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/user-error.ts';

export class PerplexityError extends UserError {}

export interface PerplexityOptions {
  /** Tokens per window (default and maximum: the model's blockSize). */
  context?: number;
  /** Tokens between window starts, in [1, context] (default: context, disjoint windows). */
  stride?: number;
  /** Windows per forward pass (default: as many as keep the logits near 32M floats, at most 64). */
  batchSize?: number;
  /** Called once with 0 before the first forward pass, then after each, with windows done and total. */
  onProgress?: (done: number, total: number) => void;
  /** Names the text in error messages (default "text"). */
  label?: string;
}

/** One window: inputs ids[start, end), targets ids[start + 1, end + 1); only targets at index >= scoreFrom count. */
export interface PplWindow {
  start: number;
  end: number;
  /** Index (into the token stream) of the first target this window scores. */
  scoreFrom: number;
}

export interface PerplexityResult {
  /** Tokens in the stream. */
  tokens: number;
  /** Tokens scored (tokens - 1: the first has no context). */
  scored: number;
  /** Summed negative log-likelihood of the scored tokens, in nats. */
  nll: number;
  /** nll / scored. */
  meanNll: number;
  /** exp(meanNll). */
  ppl: number;
  context: number;
  stride: number;
  windows: number;
}

export interface TextPerplexityResult extends PerplexityResult {
  /** UTF-8 bytes of the text covered by the scored tokens (the text less its first token). */
  bytes: number;
  /** nll / ln 2 / bytes. */
  bitsPerByte: number;
}

/**
 * The windows that score a stream of `n` tokens: starts 0, stride, 2 stride, ...; each holds at most `context`
 * inputs (never past input n - 2, whose target is the last token) and scores the targets after the previous window's.
 */
export function pplWindows(n: number, context: number, stride: number): PplWindow[] {
  if (!(Number.isInteger(context) && context >= 1))
    throw new RangeError(`pplWindows: context must be a positive integer, received ${context}`);
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= context))
    throw new RangeError(`pplWindows: stride must be an integer in [1, context = ${context}], received ${stride}`);
  const out: PplWindow[] = [];
  const maxEnd = n - 1; // inputs are ids[0 .. n-2]; input i predicts ids[i + 1]
  let scored = 1; // first target index not yet scored
  for (let start = 0; scored < n; start += stride) {
    const end = Math.min(start + context, maxEnd);
    out.push({ start, end, scoreFrom: scored });
    scored = end + 1;
  }
  return out;
}

function checkOptions(model: LanguageModel, n: number, opts: PerplexityOptions): { context: number; stride: number } {
  const label = opts.label ?? 'text';
  const block = model.config.blockSize;
  const context = opts.context ?? block;
  if (!(Number.isInteger(context) && context >= 1))
    throw new PerplexityError(`perplexity: context must be a positive integer, received ${context}`);
  if (context > block)
    throw new PerplexityError(
      `perplexity: context ${context} exceeds the model's blockSize ${block}; use a context of at most ${block}`,
    );
  const stride = opts.stride ?? context;
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= context))
    throw new PerplexityError(`perplexity: stride must be an integer in [1, context = ${context}], received ${stride}`);
  if (n < 2)
    throw new PerplexityError(
      `perplexity: ${label} has ${n} token(s); at least 2 are needed (the first is context only)`,
    );
  return { context, stride };
}

/** Perplexity of `model` on the token stream `ids` (see the file comment for the windows). */
export function perplexity(
  model: LanguageModel,
  ids: ArrayLike<number>,
  opts: PerplexityOptions = {},
): PerplexityResult {
  const n = ids.length;
  const { context, stride } = checkOptions(model, n, opts);
  const V = model.config.vocabSize;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw new PerplexityError(
        `perplexity: token ${id} at position ${i} of ${opts.label ?? 'text'} is outside the model's vocabulary [0, ${V})`,
      );
  }
  const windows = pplWindows(n, context, stride);
  const maxB = opts.batchSize ?? Math.max(1, Math.min(64, Math.floor(2 ** 25 / (context * V))));
  let nll = 0;
  let scored = 0;
  let done = 0;
  const wasTraining = model.training;
  model.eval();
  opts.onProgress?.(0, windows.length);
  try {
    noGrad(() => {
      for (let i = 0; i < windows.length; ) {
        // A batch of consecutive windows of one length (all but the last window have length `context`).
        const T = windows[i]!.end - windows[i]!.start;
        let j = i;
        while (j < windows.length && j - i < maxB && windows[j]!.end - windows[j]!.start === T) j++;
        const B = j - i;
        const input = new Int32Array(B * T);
        const targets = new Int32Array(B * T);
        let count = 0;
        for (let b = 0; b < B; b++) {
          const w = windows[i + b]!;
          for (let t = 0; t < T; t++) {
            const target = w.start + t + 1;
            input[b * T + t] = ids[w.start + t]!;
            const scoreIt = target >= w.scoreFrom;
            targets[b * T + t] = scoreIt ? ids[target]! : -100;
            if (scoreIt) count++;
          }
        }
        // The loss is the mean over scored targets; the sum is what accumulates across batches.
        const mean = model.forward(input, B, T, targets).loss!.item();
        nll += mean * count;
        scored += count;
        done = j;
        i = j;
        opts.onProgress?.(done, windows.length);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const meanNll = nll / scored;
  return { tokens: n, scored, nll, meanNll, ppl: Math.exp(meanNll), context, stride, windows: windows.length };
}

/** UTF-8 bytes of one token's text (a byte-level BPE token's own bytes). */
function tokenBytes(tok: TextTokenizer, id: number): number {
  if (tok instanceof Tokenizer) return tok.decodeBytes([id]).length;
  return Buffer.byteLength(tok.decode([id]));
}

/** Tokenizes `text` with the model's tokenizer (special-token text as plain text) and measures its perplexity. */
export function textPerplexity(
  model: LanguageModel,
  tokenizer: TextTokenizer,
  text: string,
  opts: PerplexityOptions = {},
): TextPerplexityResult {
  const label = opts.label ?? 'text';
  if (text.trim() === '') throw new PerplexityError(`perplexity: ${label} is empty (nothing to score)`);
  let ids: number[];
  try {
    ids = encodeDocument(tokenizer, text);
  } catch (e) {
    throw new PerplexityError(
      `perplexity: cannot tokenize ${label} with the model's tokenizer (${(e as Error).message})`,
    );
  }
  const r = perplexity(model, ids, opts);
  const bytes = Buffer.byteLength(text) - tokenBytes(tokenizer, ids[0]!);
  return { ...r, bytes, bitsPerByte: r.nll / Math.LN2 / Math.max(1, bytes) };
}
