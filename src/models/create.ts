/**
 * The one place a `ModelConfig` becomes a model: `createModel` picks the class for config.arch (GPT for 'gpt2',
 * Llama for 'llama') and initializes its weights from `rng`, or, with `{ init: false }`, leaves every parameter
 * zero-filled and draws nothing: what loaders use, since they overwrite every weight (through model-fill.ts, which
 * checks that none was left out). A config whose arrays or parameters cannot be allocated here is refused first,
 * with one error naming the field (model-size.ts), instead of a RangeError or minutes of allocation.
 */
import { Rng } from '../tensor/random.ts';
import { GPT } from './gpt.ts';
import { Llama } from './llama.ts';
import type { LanguageModel, ModelConfig } from './model.ts';
import { checkModelAllocatable } from './model-size.ts';

export function createModel(cfg: ModelConfig, init: Rng | { init: false }): LanguageModel {
  const rng = init instanceof Rng ? init : null;
  checkModelAllocatable(cfg);
  switch (cfg.arch) {
    case 'gpt2':
      return new GPT(cfg, rng);
    case 'llama':
      return new Llama(cfg, rng);
    default:
      throw new RangeError(
        `createModel: unknown arch "${String((cfg as { arch: unknown }).arch)}" (expected gpt2 or llama)`,
      );
  }
}
