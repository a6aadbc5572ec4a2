/**
 * The settings of a DPO run (`llmforge dpo` and the recipe stage `dpo` both build one and call runDpo): the
 * `DpoOptions` type, `DEFAULT_DPO_OPTIONS` (every default, in one place, the trainer's own from DEFAULT_DPO_CONFIG)
 * and `resolveDpoOptions`, which fills the defaults into what a front end supplied, derives the schedule's floor
 * and warmup from lr and steps when they are left out, and checks every field, throwing a one-line error that
 * names the field as that front end spells it.
 */
import type { LoraSettings } from '../finetune/lora-finetune.ts';
import { resolveLoraOptions, type LoraOptions } from '../finetune/lora-options.ts';
import { TEMPLATE_NAMES, type TemplateName } from '../chat/templates.ts';
import { PRECISION_SETTINGS, type PrecisionSetting } from '../train/precision.ts';
import { defaultMinLr } from '../train/schedule.ts';
import type { DpoLossType } from './dpo-loss.ts';
import { DEFAULT_DPO_CONFIG as C } from './dpo-train.ts';
import { paramCheck, withDefaults, type AlignOptionCheck, type OptionsInput } from './option-checks.ts';

export interface DpoOptions {
  /** The instruction-tuned policy to start from (also the reference): a model or run directory. */
  model: string;
  /** Preference pairs (JSON array or JSONL; src/finetune/preference-data.ts). */
  data: string;
  /** The run directory: model/, checkpoints/latest, metrics.jsonl, eval.json (and adapter/ with LoRA). */
  out: string;
  /** all: every weight trains against a frozen copy of the start; lora: adapters train, the reference is adapters off. */
  train: 'all' | 'lora';
  /** Adapter settings with train 'lora' (from the loraR, loraAlpha, loraDropout and loraTargets fields; defaults: DEFAULT_LORA). */
  lora: LoraSettings;
  /** KL strength: smaller lets the policy move further from the reference. */
  beta: number;
  loss: DpoLossType;
  /** Conservative DPO: the assumed share of flipped labels, in [0, 0.5) (sigmoid only). */
  labelSmoothing: number;
  /** Optimizer updates. */
  steps: number;
  /** Preference pairs per update. */
  batchSize: number;
  /** AdamW peak learning rate (warmup, then cosine decay to minLr). */
  lr: number;
  minLr: number;
  /** Updates of linear warmup. */
  warmup: number;
  template: TemplateName;
  /** Longest prompt + response in tokens (the prompt is cut first); null: the model's context + 1. */
  maxLength: number | null;
  /** Held-out share of the pairs (the same pairs a reward run with this valFrac and seed holds out). */
  valFrac: number;
  /** Evaluation (a slice of the training pairs and the held-out ones) every this many updates (0: at the end only). */
  evalEvery: number;
  seed: number;
  precision: PrecisionSetting;
  /** Continue from <out>/checkpoints/latest when it is there. */
  resume: boolean;
}

type Needed = 'model' | 'data' | 'out';
/** What a front end hands resolveDpoOptions: the paths, any other field, and the LoRA fields (loraR, ...). */
export type DpoOptionsInput = OptionsInput<Omit<DpoOptions, 'lora'>, Needed> & LoraOptions;

export const DEFAULT_DPO_OPTIONS: Readonly<
  Omit<DpoOptions, Needed | 'lora' | 'minLr' | 'warmup'> & { minLr: number | null; warmup: number | null }
> = Object.freeze({
  train: 'all' as const, // our models are small enough to train every weight
  beta: C.beta, // 0.1, the DPO paper's
  loss: C.loss, // sigmoid: the DPO loss itself
  labelSmoothing: C.labelSmoothing, // 0: plain (not conservative) DPO
  steps: C.steps, // 100 updates
  batchSize: C.batchSize, // 8 pairs
  lr: C.lr, // 5e-5 suits our 1-10M-parameter models (5e-6 is usual for 7B)
  minLr: null, // null: defaultMinLr(lr), a tenth of the peak
  warmup: null, // null: a tenth of the steps, at most 10 (DEFAULT_DPO_CONFIG.warmup)
  template: 'chatml' as TemplateName, // what `llmforge finetune sft` tunes with by default
  maxLength: null, // the model's context + 1 (a sequence's last token is only a target)
  valFrac: 0.1, // a tenth held out
  evalEvery: C.evalEvery, // every 25 updates
  seed: C.seed, // 1337
  precision: 'auto' as PrecisionSetting, // bf16 GEMMs where the CPU has them, else fp32
  resume: false,
});

/** The complete, checked options of a DPO run; errors name fields as `c` spells them. */
export function resolveDpoOptions(input: DpoOptionsInput, c: AlignOptionCheck = paramCheck()): DpoOptions {
  const o = withDefaults(DEFAULT_DPO_OPTIONS, input);
  const train = c.oneOf('train', o.train, ['all', 'lora'] as const, 'all or lora');
  const beta = c.positive('beta', o.beta);
  const loss = c.oneOf('loss', o.loss, ['sigmoid', 'ipo'] as const, 'sigmoid or ipo');
  const labelSmoothing = c.range('labelSmoothing', o.labelSmoothing, 0, 0.5);
  if (loss === 'ipo' && labelSmoothing !== 0)
    c.problem(
      `${c.label('labelSmoothing')} applies to the sigmoid loss only (received it with ${c.label('loss')} ipo)`,
    );
  const steps = c.int('steps', o.steps, 1);
  const lr = c.positive('lr', o.lr);
  return {
    model: c.path('model', o.model),
    data: c.path('data', o.data),
    out: c.path('out', o.out),
    train,
    lora: resolveLoraOptions(input, c),
    beta,
    loss,
    labelSmoothing,
    steps,
    batchSize: c.int('batchSize', o.batchSize, 1),
    lr,
    minLr: o.minLr === null ? defaultMinLr(lr) : c.nonNegative('minLr', o.minLr),
    warmup: o.warmup === null ? Math.min(C.warmup, Math.floor(steps / 10)) : c.int('warmup', o.warmup, 0),
    template: c.oneOf('template', o.template, TEMPLATE_NAMES),
    maxLength:
      o.maxLength === null
        ? null
        : c.number(
            'maxLength',
            o.maxLength,
            (n) => Number.isInteger(n) && n >= 2,
            'at least 2 (one prompt and one response token)',
          ),
    valFrac: c.fraction('valFrac', o.valFrac),
    evalEvery: c.int('evalEvery', o.evalEvery, 0),
    seed: c.integer('seed', o.seed),
    precision: c.oneOf('precision', o.precision, PRECISION_SETTINGS),
    resume: c.boolean('resume', o.resume),
  };
}
