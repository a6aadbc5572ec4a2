/**
 * Choosing the next token from one row of logits: the sampling options (temperature, top-k, top-p, repetition
 * penalty, frequency and presence penalties) with their validation, greedy decoding (temperature 0), and a seeded
 * draw from the processed distribution. The order follows Hugging Face's: repetition penalty, frequency/presence
 * penalties, temperature, top-k, softmax, top-p, draw.
 */
import type { Rng } from '../tensor/random.ts';
import {
  applyFrequencyPresencePenalty,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  softmaxRow,
} from './logits-processors.ts';
import { UserError } from '../util/user-error.ts';

export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 disables. Default 0. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of tokens with cumulative probability >= p; 1 disables. Default 1. */
  topP?: number;
  /** CTRL repetition penalty over tokens already in the context; 1 disables. Default 1. */
  repetitionPenalty?: number;
  /** OpenAI frequency penalty in [-2, 2]: each generated occurrence of a token lowers its logit by this. Default 0. */
  frequencyPenalty?: number;
  /** OpenAI presence penalty in [-2, 2]: a token generated at least once has its logit lowered by this. Default 0. */
  presencePenalty?: number;
}

/** Every option filled in; the frequency and presence penalties may stay absent (= 0). */
export type ResolvedSampling = Required<Omit<SamplingOptions, 'frequencyPenalty' | 'presencePenalty'>> &
  Pick<SamplingOptions, 'frequencyPenalty' | 'presencePenalty'>;

function fail(message: string): never {
  throw new UserError(message);
}

/** Defaults filled in and every value checked (a RangeError marked as a user error names the bad option). */
export function resolveSampling(opts: SamplingOptions = {}): ResolvedSampling {
  const r: Required<SamplingOptions> = {
    temperature: opts.temperature ?? 1,
    topK: opts.topK ?? 0,
    topP: opts.topP ?? 1,
    repetitionPenalty: opts.repetitionPenalty ?? 1,
    frequencyPenalty: opts.frequencyPenalty ?? 0,
    presencePenalty: opts.presencePenalty ?? 0,
  };
  if (!Number.isFinite(r.temperature) || r.temperature < 0)
    fail(`sampling: temperature must be a number >= 0 (0 = greedy), received ${r.temperature}`);
  if (!Number.isInteger(r.topK) || r.topK < 0)
    fail(`sampling: topK must be an integer >= 0 (0 = off), received ${r.topK}`);
  if (!Number.isFinite(r.topP) || r.topP <= 0 || r.topP > 1)
    fail(`sampling: topP must be in (0, 1] (1 = off), received ${r.topP}`);
  if (!Number.isFinite(r.repetitionPenalty) || r.repetitionPenalty <= 0) {
    fail(`sampling: repetitionPenalty must be a number > 0 (1 = off), received ${r.repetitionPenalty}`);
  }
  for (const k of ['frequencyPenalty', 'presencePenalty'] as const) {
    if (!Number.isFinite(r[k]) || r[k] < -2 || r[k] > 2)
      fail(`sampling: ${k} must be a number in [-2, 2] (0 = off), received ${r[k]}`);
  }
  return r;
}

/** Index of the largest value (the first one on ties). */
export function argmaxRow(row: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    if (row[i]! > bestValue) {
      bestValue = row[i]!;
      best = i;
    }
  }
  return best;
}

/** Draws an index with probability proportional to probs[i] (probs need not sum exactly to 1). */
export function drawFrom(probs: Float32Array, rng: Rng): number {
  let total = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! > 0) {
      total += probs[i]!;
      last = i;
    }
  }
  if (last < 0) throw new RangeError('sampling: the distribution has no token with positive probability');
  const u = rng.random() * total;
  let cum = 0;
  for (let i = 0; i <= last; i++) {
    cum += probs[i]!;
    if (u < cum) return i;
  }
  return last; // u landed in the rounding gap at the top
}

/**
 * The next token for one row of logits (not modified; a copy is processed). `context` holds the token ids seen so
 * far, for the repetition penalty; `generated` counts each generated token id, for the frequency and presence
 * penalties. Greedy when temperature is 0 (top-k and top-p then change nothing).
 */
export function sampleNext(
  logits: ArrayLike<number>,
  context: ArrayLike<number>,
  opts: ResolvedSampling,
  rng: Rng,
  generated: ReadonlyMap<number, number> = new Map(),
): number {
  const frequency = opts.frequencyPenalty ?? 0;
  const presence = opts.presencePenalty ?? 0;
  const penalized = frequency !== 0 || presence !== 0;
  if (opts.temperature === 0 && opts.repetitionPenalty === 1 && !penalized) return argmaxRow(logits); // plain greedy: nothing to copy
  const row = Float32Array.from(logits as ArrayLike<number>);
  applyRepetitionPenalty(row, context, opts.repetitionPenalty);
  applyFrequencyPresencePenalty(row, generated, frequency, presence);
  if (opts.temperature === 0) return argmaxRow(row);
  applyTemperature(row, opts.temperature);
  applyTopK(row, opts.topK);
  const probs = softmaxRow(row);
  applyTopP(probs, opts.topP);
  return drawFrom(probs, rng);
}
