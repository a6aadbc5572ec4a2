/**
 * The settings of a reward-model run (`llmforge reward train` and the recipe stage `reward` both build one and
 * call runRewardTraining): the `RewardOptions` type, `DEFAULT_REWARD_OPTIONS` (every default, in one place) and
 * `resolveRewardOptions`, which fills the defaults into what a front end supplied and checks every field, throwing a
 * one-line error that names the field as that front end spells it.
 */
import type { TrainMode } from '../finetune/classify-train.ts';
import type { LoraSettings } from '../finetune/lora-finetune.ts';
import { resolveLoraOptions, type LoraOptions } from '../finetune/lora-options.ts';
import { TEMPLATE_NAMES, type TemplateName } from '../chat/templates.ts';
import { PRECISION_SETTINGS, type PrecisionSetting } from '../train/precision.ts';
import { paramCheck, withDefaults, type AlignOptionCheck, type OptionsInput } from './option-checks.ts';

export const REWARD_TRAIN_MODES: readonly TrainMode[] = ['all', 'last-k', 'head', 'lora'];

export interface RewardOptions {
  /** The pretrained or SFT base: a model directory or a training run directory. */
  model: string;
  /** Preference pairs (JSON array or JSONL; src/finetune/preference-data.ts). */
  data: string;
  /** The run directory: checkpoints/{latest,best}, metrics.jsonl, eval.json (and adapter/ with LoRA). */
  out: string;
  /** What trains: all, last-k (the last lastK blocks + final norm + head), head, or lora (adapters + head). */
  train: TrainMode;
  lastK: number;
  /** Adapter settings with train 'lora' (from the loraR, loraAlpha, loraDropout and loraTargets fields; defaults: DEFAULT_LORA). */
  lora: LoraSettings;
  template: TemplateName;
  /** Longest token row (capped at the context length); longer rows keep their last tokens. */
  maxLength: number;
  /** Held-out share of the pairs. */
  valFrac: number;
  epochs: number;
  /** Pairs per step (two rows each). */
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Bradley-Terry margin: the loss is -log sigmoid(r_chosen - r_rejected - margin). */
  margin: number;
  /** Held-out evaluation every this many steps besides each epoch's end (0: epoch ends only). */
  evalEvery: number;
  seed: number;
  precision: PrecisionSetting;
  /** Continue from <out>/checkpoints/latest when it is there. */
  resume: boolean;
  /** Stop after this many optimizer steps in this call (tests of resume); null: no limit. */
  maxSteps: number | null;
}

/** What a front end hands resolveRewardOptions: the paths, any other field, and the LoRA fields (loraR, ...). */
export type RewardOptionsInput = OptionsInput<Omit<RewardOptions, 'lora'>, 'model' | 'data' | 'out'> & LoraOptions;

export const DEFAULT_REWARD_OPTIONS: Readonly<Omit<RewardOptions, 'model' | 'data' | 'out' | 'lora'>> = Object.freeze({
  train: 'all' as TrainMode, // a small base learns the preference fastest with every weight free
  lastK: 1, // with train last-k: the last block (its features are the most task-specific)
  template: 'chatml' as TemplateName, // what `llmforge finetune sft` tunes with by default
  maxLength: 1024, // a GPT-2 context; capped at the model's own
  valFrac: 0.1, // a tenth held out for pairwise accuracy
  epochs: 1, // one pass: reward models overfit preference pairs quickly (InstructGPT trains one epoch)
  batchSize: 8,
  lr: 1e-4,
  weightDecay: 0.01,
  margin: 0, // the plain Bradley-Terry loss
  evalEvery: 0, // evaluate at epoch ends only
  seed: 1337,
  precision: 'auto' as PrecisionSetting, // bf16 GEMMs where the CPU has them, else fp32
  resume: false,
  maxSteps: null,
});

/** The complete, checked options of a reward run; errors name fields as `c` spells them. */
export function resolveRewardOptions(input: RewardOptionsInput, c: AlignOptionCheck = paramCheck()): RewardOptions {
  const o = withDefaults(DEFAULT_REWARD_OPTIONS, input);
  const train = c.oneOf('train', o.train, REWARD_TRAIN_MODES);
  return {
    model: c.path('model', o.model),
    data: c.path('data', o.data),
    out: c.path('out', o.out),
    train,
    lastK: c.int('lastK', o.lastK, 1),
    lora: resolveLoraOptions(input, c),
    template: c.oneOf('template', o.template, TEMPLATE_NAMES),
    maxLength: c.int('maxLength', o.maxLength, 2),
    valFrac: c.fraction('valFrac', o.valFrac),
    epochs: c.int('epochs', o.epochs, 1),
    batchSize: c.int('batchSize', o.batchSize, 1),
    lr: c.positive('lr', o.lr),
    weightDecay: c.nonNegative('weightDecay', o.weightDecay),
    margin: c.nonNegative('margin', o.margin),
    evalEvery: c.int('evalEvery', o.evalEvery, 0),
    seed: c.integer('seed', o.seed),
    precision: c.oneOf('precision', o.precision, PRECISION_SETTINGS),
    resume: c.boolean('resume', o.resume),
    maxSteps: o.maxSteps === null ? null : c.int('maxSteps', o.maxSteps, 1),
  };
}
