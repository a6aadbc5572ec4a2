/**
 * Shared fixtures for the trainer tests: a tiny GPT config, a small character corpus as in-memory token
 * datasets with its CharTokenizer, a fast training config, and a fresh temporary run directory (removed when the
 * test file is done).
 */
import { TokenDataset } from '../../src/data/dataset.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { tempDir } from '../helpers/temp-dir.ts';

export const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);

export function corpus(): { tok: CharTokenizer; train: TokenDataset; val: TokenDataset } {
  const tok = CharTokenizer.fromText(TEXT);
  const ids = tok.encode(TEXT);
  const cut = Math.floor(ids.length * 0.9);
  return {
    tok,
    train: TokenDataset.fromTokens(ids.slice(0, cut), tok.vocabSize),
    val: TokenDataset.fromTokens(ids.slice(cut), tok.vocabSize),
  };
}

export function tinyModel(vocabSize: number, extra: Partial<ModelConfig> = {}): ModelConfig {
  return resolveModelConfig({ arch: 'gpt2', vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, ...extra });
}

export function fastConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    steps: 20,
    batchSize: 4,
    context: 16,
    warmup: 3,
    lr: 3e-3,
    minLr: 3e-4,
    evalInterval: 5,
    evalIters: 2,
    logInterval: 5,
    sampleTokens: 8,
    samplePrompt: 'the ',
    ...overrides,
  };
}

export function runDir(): string {
  return tempDir('train');
}
