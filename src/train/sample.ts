/**
 * The trainer's sample continuation: a small decode loop (full forward over the last blockSize tokens per new
 * token, no KV cache) that continues a fixed prompt greedily or with seeded temperature sampling, so the samples
 * printed at each evaluation show what the model has learned. Generation proper lives in src/generate/.
 */
import { noGrad } from '../tensor/autograd.ts';
import { Rng } from '../tensor/random.ts';
import type { LanguageModel } from '../models/model.ts';

export interface SampleOptions {
  /** New tokens to generate. */
  maxTokens: number;
  /** 0: greedy (argmax); otherwise softmax(logits / temperature) sampled with `seed`. */
  temperature: number;
  seed: number;
}

/** Token ids that continue `prompt` (which must be non-empty). The model is left in the mode it was in. */
export function sampleContinuation(model: LanguageModel, prompt: readonly number[], opts: SampleOptions): number[] {
  if (prompt.length === 0) throw new RangeError('sampleContinuation: the prompt has no tokens');
  const wasTraining = model.training;
  model.eval();
  const rng = new Rng(opts.seed);
  const V = model.config.vocabSize;
  const ctx = [...prompt];
  const out: number[] = [];
  try {
    noGrad(() => {
      for (let i = 0; i < opts.maxTokens; i++) {
        const window = ctx.slice(-model.config.blockSize);
        const T = window.length;
        const { logits } = model.forward(Int32Array.from(window), 1, T, null, { lastOnly: true });
        const last = logits.data.subarray(logits.size - V); // (V) logits of the final position
        const next = opts.temperature === 0 ? argmax(last) : sampleSoftmax(last, opts.temperature, rng);
        ctx.push(next);
        out.push(next);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}

function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

function sampleSoftmax(logits: ArrayLike<number>, temperature: number, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i]! - max) / temperature);
  let u = rng.random() * sum;
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return p.length - 1;
}
