/**
 * Validation for the trainer and the charlm benchmark: the mean cross-entropy over a fixed set of batches (drawn
 * from their own seeded RNG, so every evaluation sees the same batches and the training RNG is untouched), with
 * perplexity and bits per byte derived from it.
 */
import type { LanguageModel } from '../models/model.ts';
import { noGrad } from '../tensor/autograd.ts';
import { Rng } from '../tensor/random.ts';

/** What the trainer needs from a token dataset (TokenDataset satisfies it). */
export interface TokenSource {
  readonly vocabSize: number;
  readonly numTokens: number;
  /** Average UTF-8 bytes per token of the text (for bits per byte). */
  readonly bytesPerToken: number;
  /** B windows of T + 1 tokens: ids and next-token targets, each B*T row-major. Draws only from `rng`. */
  sampleBatch(rng: Rng, B: number, T: number): { ids: Int32Array; targets: Int32Array };
}

export interface EvalResult {
  /** Mean cross-entropy in nats per token. */
  loss: number;
  /** exp(loss). */
  ppl: number;
  /** loss / ln 2 / bytesPerToken. */
  bpb: number;
}

/** Mean loss over `iters` batches of B x T from `data`, drawn with a fresh Rng(seed); the model's mode is restored. */
export function evaluate(
  model: LanguageModel,
  data: TokenSource,
  B: number,
  T: number,
  iters: number,
  seed: number,
): EvalResult {
  const wasTraining = model.training;
  model.eval();
  const rng = new Rng(seed);
  let sum = 0;
  try {
    noGrad(() => {
      for (let i = 0; i < iters; i++) {
        const { ids, targets } = data.sampleBatch(rng, B, T);
        sum += model.forward(ids, B, T, targets).loss!.item();
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const loss = sum / iters;
  return { loss, ppl: Math.exp(loss), bpb: loss / Math.LN2 / data.bytesPerToken };
}
