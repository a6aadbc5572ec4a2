/**
 * Autoregressive generation with a KV cache: the prompt is run once through the model (prefill, logits of the last
 * position only), then each new token costs one position. Tokens are chosen by `sampleNext` (greedy, temperature,
 * top-k, top-p, repetition, frequency and presence penalties; seeded). Generation ends at `maxNewTokens`, at the
 * EOS id (not emitted), or when the decoded text contains a stop string (the text up to it is emitted, the stop
 * string is not).
 *
 * Context policy: a prompt longer than the model's context (blockSize) is cropped from the left, with a note. When
 * the cache fills during generation the default is to slide: the cache is rebuilt from the last blockSize/2 tokens
 * (one prefill) and decoding goes on, as nanoGPT's sampler crops its input; `onContextFull: 'stop'` ends instead.
 * The model runs in eval mode under noGrad (one forward at a time, so grad mode is never left off between yields)
 * and its training flag is restored when the iterator finishes or is abandoned.
 *
 * Decode steps (one token each) run through the model's fast `TokenDecoder` when it has one (GPT-2 and Llama on
 * the native backend), in `decodePrecision`: 'fp32' gives the same logits as the ordinary forward, 'bf16' streams bfloat16
 * copies of the weight matrices (made once per call, counted in prefillMs). Without a decoder the ordinary forward
 * runs, in fp32 (a note says so when bf16 was asked for).
 */
import {
  defaultDecodePrecision,
  parseDecodePrecision,
  type DecodePrecision,
  type TokenDecoder,
} from '../models/decoder.ts';
import type { LanguageModel, KVCache } from '../models/model.ts';
import { noGrad } from '../tensor/autograd.ts';
import { Rng } from '../tensor/random.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { resolveSampling, sampleNext, type SamplingOptions } from './sampling.ts';
import { StopMatcher } from './stop-strings.ts';
import { TextStream } from './text-stream.ts';
import { UserError } from '../util/user-error.ts';

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate. Default 128. */
  maxNewTokens?: number;
  /** Seed of the sampling RNG (same seed, same model, same prompt: same tokens). Default 0. */
  seed?: number;
  /** End generation when this id is chosen (it is not emitted). */
  eosId?: number;
  /** Decodes generated ids for `onText` and stop strings. */
  tokenizer?: TextTokenizer;
  /** End when the generated text contains one of these (needs `tokenizer`). */
  stop?: readonly string[];
  /** Called with each newly decoded piece of text (needs `tokenizer`); the pieces concatenate to the result text. */
  onText?: (text: string) => void;
  /** When the KV cache is full: 'slide' (default) re-prefills the last blockSize/2 tokens; 'stop' ends. */
  onContextFull?: 'slide' | 'stop';
  /**
   * Called with each generated token and the raw logits it was chosen from (before any penalty, temperature or
   * filter; valid only during the call), before its text goes to `onText`. The EOS id that ends generation is not
   * reported.
   */
  onToken?: (id: number, logits: ArrayLike<number>) => void;
  /** Informational notes (prompt cropped, context slid). Default: none. */
  onNote?: (message: string) => void;
  /** Weight precision of decode steps: 'fp32' (default, or LLMFORGE_DECODE) or 'bf16' (faster; see decoder.ts). */
  decodePrecision?: DecodePrecision;
}

export type StopReason = 'length' | 'eos' | 'stop' | 'context';

export interface GenerateSummary {
  /** Generated ids (the EOS id excluded; the tokens that completed a stop string included). */
  ids: number[];
  /** Decoded text of the generation, cut before the stop string ('' without a tokenizer). */
  text: string;
  stopReason: StopReason;
  /** Prompt tokens actually run through the model (after cropping). */
  promptTokens: number;
  /** Time of the first prefill, and of everything after it (decode steps and slides), in milliseconds. */
  prefillMs: number;
  decodeMs: number;
  /** How decode steps ran: the fast decoder in 'fp32' or 'bf16', or 'forward' (the ordinary fp32 forward). */
  decodePath: DecodePrecision | 'forward';
}

/** Logits of the last position after running `ids` through the model, extending `cache`. */
function step(model: LanguageModel, ids: Int32Array, cache: KVCache): ArrayLike<number> {
  return noGrad(() => model.forward(ids, 1, ids.length, null, { cache, lastOnly: true }).logits.data);
}

/**
 * Yields generated token ids one at a time; the iterator's return value is the summary. Text, when a tokenizer
 * is given, goes to `onText` as it completes (partial UTF-8 held back, stop-string prefixes held back). Frequency
 * and presence penalties count the generated tokens only; the repetition penalty sees the prompt too.
 */
export function* generateTokens(
  model: LanguageModel,
  promptIds: readonly number[],
  opts: GenerateOptions = {},
): Generator<number, GenerateSummary, undefined> {
  const sampling = resolveSampling(opts);
  const maxNew = opts.maxNewTokens ?? 128;
  if (!Number.isInteger(maxNew) || maxNew < 0)
    throw new UserError(`generate: maxNewTokens must be an integer >= 0, received ${maxNew}`);
  const { vocabSize: V, blockSize } = model.config;
  if (promptIds.length === 0)
    throw new UserError('generate: the prompt is empty; give at least one token (for example the EOS id)');
  for (const [i, id] of promptIds.entries()) {
    if (!Number.isInteger(id) || id < 0 || id >= V)
      throw new UserError(`generate: prompt token ${i} is ${id}, expected an id in [0, ${V})`);
  }
  const stops = opts.stop ?? [];
  if (stops.length > 0 && !opts.tokenizer)
    throw new UserError('generate: stop strings need a tokenizer to decode the generated text');
  const matcher = stops.length > 0 ? new StopMatcher(stops) : null;
  const stream = opts.tokenizer ? new TextStream(opts.tokenizer) : null;
  const note = opts.onNote ?? (() => {});
  const rng = new Rng(opts.seed ?? 0);
  const precision =
    opts.decodePrecision === undefined
      ? defaultDecodePrecision()
      : parseDecodePrecision(opts.decodePrecision, 'generate: decodePrecision');

  let text = '';
  const emit = (piece: string): boolean => {
    const out = matcher ? matcher.push(piece) : { text: piece, stopped: false };
    if (out.text.length > 0) {
      text += out.text;
      opts.onText?.(out.text);
    }
    return out.stopped;
  };

  const history = [...promptIds]; // repetition-penalty context: the whole prompt and everything generated
  const counts = new Map<number, number>(); // frequency/presence-penalty context: generated tokens only
  let window = promptIds;
  if (promptIds.length > blockSize) {
    window = promptIds.slice(promptIds.length - blockSize);
    note(`prompt of ${promptIds.length} tokens cropped from the left to the model's context of ${blockSize} tokens`);
  }
  const ids: number[] = [];
  let stopReason: StopReason = 'length';
  const wasTraining = model.training;
  model.eval();
  try {
    const t0 = performance.now();
    const decoder: TokenDecoder | null = maxNew > 1 ? model.decoder(precision) : null;
    if (!decoder && precision === 'bf16' && maxNew > 1)
      note('bf16 decoding is not available for this model or backend; decoding in fp32');
    let cache = model.createCache(1, blockSize);
    let logits = maxNew > 0 ? step(model, Int32Array.from(window), cache) : null;
    const t1 = performance.now();
    let slid = false;
    for (let n = 0; n < maxNew; n++) {
      const id = sampleNext(logits!, history, sampling, rng, counts);
      if (opts.eosId !== undefined && id === opts.eosId) {
        stopReason = 'eos';
        break;
      }
      opts.onToken?.(id, logits!);
      ids.push(id);
      history.push(id);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      const stopped = stream ? emit(stream.push(id)) : false;
      yield id;
      if (stopped) {
        stopReason = 'stop';
        break;
      }
      if (n === maxNew - 1) break; // no forward for a token that will not be used
      if (cache.length >= blockSize) {
        if (opts.onContextFull === 'stop') {
          stopReason = 'context';
          break;
        }
        const keep = Math.max(1, Math.floor(blockSize / 2));
        if (!slid) note(`context full (${blockSize} tokens): continuing from the last ${keep} tokens`);
        slid = true;
        cache = model.createCache(1, blockSize);
        logits = step(model, Int32Array.from(history.slice(history.length - keep)), cache);
      } else {
        logits = decoder ? decoder.step(id, cache) : step(model, Int32Array.of(id), cache);
      }
    }
    if (stream && !(matcher?.stopped ?? false)) {
      if (emit(stream.flush())) stopReason = 'stop';
      if (matcher && !matcher.stopped) {
        const rest = matcher.flush();
        text += rest;
        if (rest.length > 0) opts.onText?.(rest);
      }
    }
    const decodePath = decoder ? decoder.precision : 'forward';
    return {
      ids,
      text,
      stopReason,
      promptTokens: window.length,
      prefillMs: t1 - t0,
      decodeMs: performance.now() - t1,
      decodePath,
    };
  } finally {
    model.train(wasTraining);
  }
}

/** Runs `generateTokens` to the end and returns its summary. */
export function generate(
  model: LanguageModel,
  promptIds: readonly number[],
  opts: GenerateOptions = {},
): GenerateSummary {
  const it = generateTokens(model, promptIds, opts);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
