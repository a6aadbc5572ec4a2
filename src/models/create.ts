/**
 * The one place a `ModelConfig` becomes a model: `createModel` picks the class for config.arch (GPT for 'gpt2',
 * Llama for 'llama') and initializes its weights from `rng`.
 */
import type { Rng } from '../tensor/random.ts';
import { GPT } from './gpt.ts';
import { Llama } from './llama.ts';
import type { LanguageModel, ModelConfig } from './model.ts';

export function createModel(cfg: ModelConfig, rng: Rng): LanguageModel {
  switch (cfg.arch) {
    case 'gpt2':
      return new GPT(cfg, rng);
    case 'llama':
      return new Llama(cfg, rng);
    default:
      throw new RangeError(`createModel: unknown arch "${String((cfg as { arch: unknown }).arch)}" (expected gpt2 or llama)`);
  }
}
