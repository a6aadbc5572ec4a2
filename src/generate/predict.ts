/**
 * The model's next-token distribution for a text: the prompt is encoded (an empty prompt starts from the EOS token
 * when the tokenizer has one), cropped from the left to the model's context, run once, and the FULL softmax over the
 * vocabulary at the last position is taken in float32 (`softmaxRow`); the most probable tokens come back first.
 * This is the picture of what pretraining learns: "The capital of France is" -> " Paris" 0.93.
 */
import type { LanguageModel } from '../models/model.ts';
import { noGrad } from '../tensor/autograd.ts';
import { eosId, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { softmaxRow, topIndices } from './logits-processors.ts';
import { UserError } from '../util/user-error.ts';

export interface Prediction {
  id: number;
  /** The token's text as the tokenizer decodes it alone (a partial UTF-8 character shows as U+FFFD). */
  token: string;
  /** Probability in float32, from the softmax over the whole vocabulary. */
  prob: number;
}

/** The prompt ids a text stands for: its encoding, or [EOS] for an empty text when the tokenizer has an EOS id. */
export function promptIds(tokenizer: TextTokenizer, text: string): number[] {
  let ids: number[];
  try {
    ids = tokenizer.encode(text);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot encode the prompt: ${(e as Error).message}`);
  }
  if (ids.length > 0) return ids;
  const eos = eosId(tokenizer);
  if (eos !== undefined) return [eos];
  throw new UserError('the prompt is empty and the tokenizer has no end-of-text token to start from; give some text');
}

/** The full next-token distribution (float32, length V) after `ids`, cropped from the left to the context. */
export function nextTokenProbs(model: LanguageModel, ids: readonly number[]): Float32Array {
  const { blockSize, vocabSize } = model.config;
  for (const [i, id] of ids.entries()) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
      throw new UserError(`predict: token ${i} is ${id}, expected an id in [0, ${vocabSize})`);
  }
  if (ids.length === 0) throw new UserError('predict: no tokens to predict from');
  const window = Int32Array.from(ids.length > blockSize ? ids.slice(ids.length - blockSize) : ids);
  const wasTraining = model.training;
  model.eval();
  try {
    const logits = noGrad(() => model.forward(window, 1, window.length, null, { lastOnly: true }).logits);
    return softmaxRow(Float32Array.from(logits.data));
  } finally {
    model.train(wasTraining);
  }
}

/** The `topN` most probable next tokens after `text`, most probable first (ties by lower id). */
export function predictNext(model: LanguageModel, tokenizer: TextTokenizer, text: string, topN = 10): Prediction[] {
  if (!Number.isInteger(topN) || topN < 1)
    throw new UserError(`predict: top must be a positive integer, received ${topN}`);
  const probs = nextTokenProbs(model, promptIds(tokenizer, text));
  return Array.from(topIndices(probs, topN), (id) => ({ id, token: tokenText(tokenizer, id), prob: probs[id]! }));
}

/** A token's text alone; '' for an id the model has but the tokenizer does not (a vocabulary padded for speed). */
export function tokenText(tokenizer: TextTokenizer, id: number): string {
  return id < tokenizer.vocabSize ? tokenizer.decode([id]) : '';
}
