/**
 * Shared fixture of the GGUF tests: a byte-level BPE tokenizer trained on a small repetitive corpus and a tiny
 * GPT-2 or Llama model trained on it for a few dozen AdamW steps (seeded, so every run builds the same weights),
 * so that greedy continuations have clear winners rather than the near-ties of random weights.
 */
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel, ModelConfig } from '../../src/models/model.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';

const SENTENCES = [
  'The sun rises in the east and sets in the west.',
  'A small fox runs through the green field at dawn.',
  'Rivers carry water from the hills down to the sea.',
  'The old clock in the hall strikes twelve at noon.',
  'Bread and honey make a simple breakfast for two.',
];

export const CORPUS = Array.from(
  { length: 12 },
  (_, i) => `${SENTENCES.map((_, j) => SENTENCES[(i + j) % SENTENCES.length]!).join(' ')}\n`,
).join('');

export function trainTokenizer(): Tokenizer {
  const wc = new WordCounter();
  wc.add(CORPUS);
  return trainBpe(wc.counts, { vocabSize: 320, specialTokens: ['<|endoftext|>'] });
}

/** A tiny model of `arch` trained for `steps` AdamW steps on the corpus. */
export function trainedModel(
  arch: 'gpt2' | 'llama',
  tok: Tokenizer,
  steps = 40,
  overrides: Partial<ModelConfig> = {},
): LanguageModel {
  const cfg = completeModelConfig({
    arch,
    vocabSize: tok.vocabSize,
    blockSize: 64,
    nLayer: 2,
    nHead: 4,
    nEmbd: 64,
    ...(arch === 'llama' ? { nKvHead: 2, ropeTheta: 10000 } : {}),
    ...overrides,
  });
  const model = createModel(cfg, new Rng(7));
  const ids = tok.encode(CORPUS);
  const opt = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
  const B = 4;
  const T = 48;
  const rng = new Rng(11);
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let s = 0; s < steps; s++) {
    for (let b = 0; b < B; b++) {
      const start = rng.int(ids.length - T - 1);
      for (let t = 0; t < T; t++) {
        x[b * T + t] = ids[start + t]!;
        y[b * T + t] = ids[start + t + 1]!;
      }
    }
    const { loss } = model.forward(x, B, T, y);
    opt.zeroGrad();
    loss!.backward();
    opt.step();
  }
  return model;
}
