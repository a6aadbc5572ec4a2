/**
 * Summed log-probability of each row's learned tokens under a language model: the quantity preference methods
 * (DPO, IPO) compare between a policy and its reference. A padded batch (src/finetune/sft-batch.ts) marks the
 * tokens that count by their targets (the response tokens; -100 on prompt and padding), so the log-probability of
 * row b is -sum_t crossEntropy(logits[b, t], targets[b, t]) over its non-ignored positions. The differentiable
 * version feeds the policy's loss; the no-grad version scores the frozen reference (eval mode, no dropout).
 */
import type { SftBatch } from '../finetune/sft-batch.ts';
import type { LanguageModel } from '../models/model.ts';
import * as F from '../ops/index.ts';
import { noGrad } from '../tensor/autograd.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Log-probabilities (B) of each row's learned tokens, differentiable w.r.t. the model's trainable parameters. */
export function sequenceLogprobs(model: LanguageModel, batch: SftBatch, dropoutSeed?: number): Tensor {
  const opts = {
    ...(batch.segments ? { segments: batch.segments } : {}),
    ...(dropoutSeed !== undefined ? { dropoutSeed } : {}),
  };
  const { logits } = model.forward(batch.ids, batch.B, batch.T, null, opts); // (B, T, V)
  const nll = F.crossEntropy(logits, batch.targets, { reduction: 'none' }); // (B, T), 0 where the target is -100
  return F.neg(F.sum(nll, 1)); // (B)
}

/** The same log-probabilities without a graph, the model in eval mode (its previous mode is restored). */
export function referenceLogprobs(model: LanguageModel, batch: SftBatch): Float64Array {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => Float64Array.from(sequenceLogprobs(model, batch).data));
  } finally {
    model.train(wasTraining);
  }
}
