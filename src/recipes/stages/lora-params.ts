/**
 * The LoRA parameters of the alignment stages (reward, dpo, ppo) with `train: lora`: loraR, loraAlpha, loraDropout
 * and loraTargets ([]: every attention and MLP linear), spelled as the LoRA fields of the run options
 * (src/finetune/lora-options.ts), which check them, and defaulting to DEFAULT_LORA.
 */
import { DEFAULT_LORA } from '../../finetune/lora-finetune.ts';
import type { ParamSpec } from '../schema.ts';

export const LORA_PARAMS = {
  loraR: { type: 'integer', help: 'rank of the adapters with train: lora', default: DEFAULT_LORA.r, min: 1 },
  loraAlpha: {
    type: 'number',
    help: 'adapter scale numerator (updates times alpha / r) with train: lora',
    default: DEFAULT_LORA.alpha,
  },
  loraDropout: {
    type: 'number',
    help: 'dropout on the adapter input with train: lora, in [0, 1)',
    default: DEFAULT_LORA.dropout,
    min: 0,
  },
  loraTargets: {
    type: 'string[]',
    help: 'linears to adapt with train: lora ([]: every attention and MLP linear)',
    default: [] as string[],
  },
} satisfies Record<string, ParamSpec>;
