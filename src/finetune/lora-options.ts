/**
 * The LoRA fields of the fine-tuning run options (loraR, loraAlpha, loraDropout, loraTargets), shared by
 * runClassification and runSft: optional, checked with one-line errors that name the field as the caller's user
 * knows it (`--lora-r` on the command line, `loraR` in a recipe), and filled from DEFAULT_LORA.
 */
import type { OptionCheck } from '../train/option-check.ts';
import { DEFAULT_LORA, type LoraSettings } from './lora-finetune.ts';

export interface LoraOptions {
  /** Rank of the adapters (default DEFAULT_LORA.r). */
  loraR?: number;
  /** Scale numerator: updates times alpha / r (default DEFAULT_LORA.alpha). */
  loraAlpha?: number;
  /** Dropout on the adapter input while training, in [0, 1) (default DEFAULT_LORA.dropout). */
  loraDropout?: number;
  /** Linears to adapt; undefined or []: every attention and MLP linear of the architecture. */
  loraTargets?: readonly string[];
}

/** The settings of the LoRA fields, defaults filled; the first bad field is a one-line error. */
export function resolveLoraOptions(o: LoraOptions, check: OptionCheck): LoraSettings {
  const r = check.int('loraR', o.loraR ?? DEFAULT_LORA.r, 1);
  const alpha = check.positive('loraAlpha', o.loraAlpha ?? DEFAULT_LORA.alpha);
  const dropout = check.fraction('loraDropout', o.loraDropout ?? DEFAULT_LORA.dropout);
  const targets = o.loraTargets ?? [];
  const bad = targets.find((t) => !/^[A-Za-z_][\w.]*$/.test(t));
  if (bad !== undefined) check.fail('loraTargets', 'module names such as c_attn or q_proj', bad);
  return { r, alpha, dropout, targets: targets.length > 0 ? [...targets] : null };
}
