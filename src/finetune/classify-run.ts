/**
 * The one classification fine-tuning run that `llmforge finetune classify` and the recipe stage `classify` both
 * call: a typed options object whose settings are optional, DEFAULT_CLASSIFY_OPTIONS holding every default in one
 * place, resolveClassifyOptions checking each field (one-line errors naming the field as the caller's user knows it)
 * and filling the defaults, and runClassification training with them (src/finetune/classify-train.ts).
 */
import { parsePrecisionSetting, type PrecisionSetting } from '../train/precision.ts';
import { OptionCheck } from '../train/option-check.ts';
import type { Balance } from './classify-data.ts';
import type { Pooling } from './classifier.ts';
import {
  trainClassifier,
  type ClassifyTrainOptions,
  type ClassifyTrainResult,
  type TrainMode,
} from './classify-train.ts';
import { resolveLoraOptions, type LoraOptions } from './lora-options.ts';

export interface ClassifyOptions extends LoraOptions {
  /** TSV (label<TAB>text), CSV or JSONL file of labelled texts. */
  data: string;
  /** Pretrained base: a model directory or a training run directory. */
  base: string;
  /** Run directory: checkpoints/{latest,best}, metrics.jsonl (and adapter/ with LoRA). */
  out: string;
  mode?: TrainMode;
  lastK?: number;
  pooling?: Pooling;
  maxLength?: number;
  balance?: Balance;
  valFrac?: number;
  testFrac?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  precision?: PrecisionSetting;
  /** Continue from <out>/checkpoints/latest (or latest.prev); without it, an <out> holding a checkpoint is refused. */
  resume?: boolean;
  /** Stop after this many optimizer steps in this call (tests of resume). */
  maxSteps?: number;
  /** Aborted (Ctrl-C): the current update finishes, a checkpoint is saved and the result says stopped. */
  signal?: AbortSignal;
  quiet?: boolean;
  /** Progress lines and the test report (default: stdout). */
  log?: (line: string) => void;
}

export const DEFAULT_CLASSIFY_OPTIONS = Object.freeze({
  /** Train every weight (last-k, head and lora train less). */
  mode: 'all' as TrainMode,
  /** Blocks trained with mode last-k: the last one. */
  lastK: 1,
  /** Head input: the mean of the real tokens, steadier than the last token on small bases (every spam run uses it). */
  pooling: 'mean' as Pooling,
  /** Longest text in tokens (at most the base's context); longer texts are truncated. */
  maxLength: 64,
  /** No class balancing: accuracy and F1 of the rare class are the usual targets, class weights trade them away. */
  balance: 'none' as Balance,
  /** Validation share of each class (best checkpoint chosen on it). */
  valFrac: 0.1,
  /** Test share of each class (scored once with the best checkpoint). */
  testFrac: 0.2,
  /** Passes over the training split: the usual fine-tuning default. */
  epochs: 3,
  /** Examples per step. */
  batchSize: 16,
  /** AdamW learning rate, half the pretraining default: the base is already trained. */
  lr: 5e-4,
  /** AdamW weight decay. */
  weightDecay: 0.01,
  /** Seed of the split, balancing, batch order, head (and adapter) init and dropout. */
  seed: 1337,
  /** GEMM precision: bf16 on CPUs with fast bf16 dot products, else fp32. */
  precision: 'auto' as PrecisionSetting,
});

const MODES: readonly TrainMode[] = ['all', 'last-k', 'head', 'lora'];
const POOLING: readonly Pooling[] = ['last', 'mean'];
const BALANCE_MODES: readonly Balance[] = ['none', 'undersample', 'oversample', 'weights'];

/** Checks every field and fills the defaults; `check` names the fields in errors (default: as they are). */
export function resolveClassifyOptions(o: ClassifyOptions, check = new OptionCheck()): ClassifyTrainOptions {
  const d = DEFAULT_CLASSIFY_OPTIONS;
  const mode = check.oneOf('mode', o.mode ?? d.mode, MODES);
  const lora = resolveLoraOptions(o, check);
  const valFrac = check.fraction('valFrac', o.valFrac ?? d.valFrac);
  const testFrac = check.fraction('testFrac', o.testFrac ?? d.testFrac);
  if (valFrac + testFrac >= 1) check.fail('valFrac', `below 1 - testFrac = ${1 - testFrac}`, valFrac);
  return {
    data: o.data,
    base: o.base,
    out: o.out,
    mode,
    ...(mode === 'lora' ? { lora } : {}),
    lastK: check.int('lastK', o.lastK ?? d.lastK, 1),
    pooling: check.oneOf('pooling', o.pooling ?? d.pooling, POOLING),
    maxLength: check.int('maxLength', o.maxLength ?? d.maxLength, 1),
    balance: check.oneOf('balance', o.balance ?? d.balance, BALANCE_MODES),
    valFrac,
    testFrac,
    epochs: check.int('epochs', o.epochs ?? d.epochs, 1),
    batchSize: check.int('batchSize', o.batchSize ?? d.batchSize, 1),
    lr: check.positive('lr', o.lr ?? d.lr),
    weightDecay: check.nonNegative('weightDecay', o.weightDecay ?? d.weightDecay),
    seed: check.int('seed', o.seed ?? d.seed, 0),
    precision: parsePrecisionSetting(o.precision ?? d.precision, check.named('precision')),
    resume: o.resume === true,
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
}

/** Resolves the options and trains the classifier; see ClassifyOptions and trainClassifier. */
export function runClassification(o: ClassifyOptions, check = new OptionCheck()): Promise<ClassifyTrainResult> {
  return trainClassifier(resolveClassifyOptions(o, check));
}
