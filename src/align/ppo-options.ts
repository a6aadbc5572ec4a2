/**
 * The settings of a PPO run (`llmforge ppo` and the recipe stage `ppo` both build one and call runPpo): the
 * `PpoOptions` type, `DEFAULT_PPO_OPTIONS` (every default, in one place, the trainer's own from DEFAULT_PPO_CONFIG)
 * and `resolvePpoOptions`, which fills the defaults into what a front end supplied and checks every field, throwing
 * a one-line error that names the field as that front end spells it.
 */
import type { LoraSettings } from '../finetune/lora-finetune.ts';
import { resolveLoraOptions, type LoraOptions } from '../finetune/lora-options.ts';
import { TEMPLATE_NAMES, type TemplateName } from '../chat/templates.ts';
import { PRECISION_SETTINGS, type PrecisionSetting } from '../train/precision.ts';
import { paramCheck, withDefaults, type AlignOptionCheck, type OptionsInput } from './option-checks.ts';
import { DEFAULT_PPO_CONFIG as C } from './ppo-train.ts';

export interface PpoOptions {
  /** The instruction-tuned policy to start from (also the KL reference): a model or run directory. */
  model: string;
  /** The reward model: a directory written by a reward run. */
  rewardModel: string;
  /** Prompts: preference pairs or instruction / chat records (their answers are ignored). */
  prompts: string;
  /** The run directory: model/, checkpoints/latest, metrics.jsonl, samples.jsonl, eval.json (and adapter/ with LoRA). */
  out: string;
  /** all: every weight trains against a frozen copy of the start; lora: adapters train, the reference is adapters off. */
  train: 'all' | 'lora';
  /** Adapter settings with train 'lora' (from the loraR, loraAlpha, loraDropout and loraTargets fields; defaults: DEFAULT_LORA). */
  lora: LoraSettings;
  /** Rollout batches (each: sample, score, PPO epochs). */
  iterations: number;
  /** Prompts answered per iteration. */
  batchSize: number;
  /** Responses per PPO update. */
  miniBatchSize: number;
  /** Passes over each batch of responses. */
  ppoEpochs: number;
  /** AdamW learning rate (constant). */
  lr: number;
  /** KL penalty coefficient (the initial one with targetKl). */
  klCoef: number;
  /** Adaptive KL: steer the coefficient toward this KL per response (nats); null: a fixed coefficient. */
  targetKl: number | null;
  /** Adaptive KL horizon in responses. */
  klHorizon: number;
  /** Discount over response tokens. */
  gamma: number;
  /** GAE lambda. */
  lambda: number;
  /** PPO ratio clip range. */
  clipRange: number;
  /** Value clip range around the rollout values. */
  clipRangeValue: number;
  /** Weight of the value loss. */
  vfCoef: number;
  /** Longest response in tokens. */
  maxNewTokens: number;
  /** Sampling of the rollouts: temperature (> 0), top-k (0: off) and nucleus top-p (1: off). */
  temperature: number;
  topK: number;
  topP: number;
  template: TemplateName;
  /** Held-out prompts, answered and scored before and after training. */
  valPrompts: number;
  /** Log three sample responses every this many iterations (0: never). */
  sampleEvery: number;
  /** Checkpoint every this many iterations (and at the end). */
  saveEvery: number;
  seed: number;
  precision: PrecisionSetting;
  /** Continue from <out>/checkpoints/latest when it is there. */
  resume: boolean;
}

type Needed = 'model' | 'rewardModel' | 'prompts' | 'out';
/** What a front end hands resolvePpoOptions: the paths, any other field, and the LoRA fields (loraR, ...). */
export type PpoOptionsInput = OptionsInput<Omit<PpoOptions, 'lora'>, Needed> & LoraOptions;

export const DEFAULT_PPO_OPTIONS: Readonly<Omit<PpoOptions, Needed | 'lora'>> = Object.freeze({
  train: 'all' as const, // our models are small enough to train every weight
  iterations: C.iterations, // 20
  batchSize: C.batchSize, // 32: 16 responses per batch drifted without raising the reward on the README run
  miniBatchSize: C.miniBatchSize, // 8
  ppoEpochs: C.ppoEpochs, // 4, as TRL
  lr: C.lr, // 5e-5: TRL's 1.41e-5 is for 100M+ models and barely moves ours
  klCoef: C.klCoef, // 0.2, TRL's initial coefficient
  targetKl: C.targetKl, // null: a fixed coefficient
  klHorizon: C.klHorizon, // 10000 responses, TRL's
  gamma: C.gamma, // 1: no discount within a response
  lambda: C.lambda, // 0.95, TRL's
  clipRange: C.clipRange, // 0.2, the PPO paper's
  clipRangeValue: C.clipRangeValue, // 0.2
  vfCoef: C.vfCoef, // 0.1, TRL's
  maxNewTokens: C.maxNewTokens, // 32
  temperature: C.sampling.temperature, // 1: sample from the policy itself (PPO's ratio assumes it)
  topK: C.sampling.topK, // 0: off
  topP: C.sampling.topP, // 1: off
  template: 'chatml' as TemplateName, // what `llmforge finetune sft` tunes with by default
  valPrompts: 50, // enough for a mean reward that moves with the policy, cheap to answer twice
  sampleEvery: C.sampleEvery, // 5
  saveEvery: C.saveEvery, // 10
  seed: C.seed, // 1337
  precision: 'auto' as PrecisionSetting, // bf16 GEMMs where the CPU has them, else fp32
  resume: false,
});

/** The complete, checked options of a PPO run; errors name fields as `c` spells them. */
export function resolvePpoOptions(input: PpoOptionsInput, c: AlignOptionCheck = paramCheck()): PpoOptions {
  const o = withDefaults(DEFAULT_PPO_OPTIONS, input);
  const train = c.oneOf('train', o.train, ['all', 'lora'] as const, 'all or lora');
  const klCoef = c.nonNegative('klCoef', o.klCoef);
  const targetKl = o.targetKl === null ? null : c.positive('targetKl', o.targetKl);
  if (targetKl !== null && klCoef === 0)
    c.problem(
      `${c.label('targetKl')} adapts ${c.label('klCoef')} multiplicatively, so ${c.label('klCoef')} must be > 0 with it`,
    );
  return {
    model: c.path('model', o.model),
    rewardModel: c.path('rewardModel', o.rewardModel),
    prompts: c.path('prompts', o.prompts),
    out: c.path('out', o.out),
    train,
    lora: resolveLoraOptions(input, c),
    iterations: c.int('iterations', o.iterations, 1),
    batchSize: c.int('batchSize', o.batchSize, 1),
    miniBatchSize: c.int('miniBatchSize', o.miniBatchSize, 1),
    ppoEpochs: c.int('ppoEpochs', o.ppoEpochs, 1),
    lr: c.positive('lr', o.lr),
    klCoef,
    targetKl,
    klHorizon: c.positive('klHorizon', o.klHorizon),
    gamma: c.range('gamma', o.gamma, 0, 1, true),
    lambda: c.range('lambda', o.lambda, 0, 1, true),
    clipRange: c.positive('clipRange', o.clipRange),
    clipRangeValue: c.positive('clipRangeValue', o.clipRangeValue),
    vfCoef: c.nonNegative('vfCoef', o.vfCoef),
    maxNewTokens: c.int('maxNewTokens', o.maxNewTokens, 1),
    temperature: c.positive('temperature', o.temperature),
    topK: c.int('topK', o.topK, 0),
    topP: c.number('topP', o.topP, (n) => n > 0 && n <= 1, 'in (0, 1]'),
    template: c.oneOf('template', o.template, TEMPLATE_NAMES),
    valPrompts: c.int('valPrompts', o.valPrompts, 0),
    sampleEvery: c.int('sampleEvery', o.sampleEvery, 0),
    saveEvery: c.int('saveEvery', o.saveEvery, 0),
    seed: c.integer('seed', o.seed),
    precision: c.oneOf('precision', o.precision, PRECISION_SETTINGS),
    resume: c.boolean('resume', o.resume),
  };
}
