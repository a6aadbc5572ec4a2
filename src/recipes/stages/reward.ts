/**
 * Stage `reward`: a reward model trained on preference pairs on top of an earlier model: the stage turns its
 * parameters into options for runRewardTraining (src/align/reward-run.ts), the run `llmforge reward train` makes
 * too (Bradley-Terry loss, held-out pairwise accuracy, checkpoints and resume; `train: lora` trains adapters and the
 * head). The stage directory is the reward run: `<dir>/checkpoints/best` holds the model with the best held-out
 * accuracy, and the directory itself is what `llmforge reward score --model` and the `ppo` stage's `reward`
 * parameter take.
 */
import { join } from 'node:path';
import { paramCheck } from '../../align/option-checks.ts';
import {
  DEFAULT_REWARD_OPTIONS as D,
  resolveRewardOptions,
  type RewardOptionsInput,
} from '../../align/reward-options.ts';
import { runRewardTraining } from '../../align/reward-run.ts';
import type { TrainMode } from '../../finetune/classify-train.ts';
import type { TemplateName } from '../../chat/templates.ts';
import type { PrecisionSetting } from '../../train/precision.ts';
import { defineStage, type StageContext } from '../registry.ts';
import type { ParamsOf } from '../schema.ts';
import { LORA_PARAMS } from './lora-params.ts';
import { runStageInterruptible } from './interruptible.ts';

const params = {
  model: { type: 'string', help: 'the base: an earlier sft, pretrain or model stage, or a model or run directory' },
  data: {
    type: 'string',
    help: 'preference pairs (JSON array or JSONL: {instruction, input, chosen, rejected}, {prompt, chosen, rejected} or chats)',
  },
  train: {
    type: 'string',
    help: 'what trains: all, last-k (last lastK blocks + final norm + head), head or lora (adapters + head)',
    default: D.train,
  },
  lastK: { type: 'integer', help: 'blocks trained with train: last-k', default: D.lastK, min: 1 },
  ...LORA_PARAMS,
  template: { type: 'string', help: 'prompt template: chatml, alpaca or model', default: D.template },
  maxLength: {
    type: 'integer',
    help: 'longest token row (capped at the context; longer rows keep their last tokens)',
    default: D.maxLength,
    min: 2,
  },
  valFrac: { type: 'number', help: 'held-out share of the pairs', default: D.valFrac },
  epochs: { type: 'integer', help: 'passes over the training pairs', default: D.epochs, min: 1 },
  batchSize: { type: 'integer', help: 'pairs per step (two rows each)', default: D.batchSize, min: 1 },
  lr: { type: 'number', help: 'AdamW learning rate', default: D.lr },
  weightDecay: { type: 'number', help: 'AdamW weight decay', default: D.weightDecay, min: 0 },
  margin: { type: 'number', help: 'Bradley-Terry margin', default: D.margin, min: 0 },
  evalEvery: {
    type: 'integer',
    help: 'held-out evaluation every N steps besides each epoch end (0: epoch ends only)',
    default: D.evalEvery,
    min: 0,
  },
  seed: { type: 'integer', help: 'seed of the split, batch order and head init', default: D.seed },
  precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16', default: D.precision },
} as const;

/** The run's options from the stage's parameters (paths of earlier stages resolved when `ctx` is given). */
function options(p: ParamsOf<typeof params>, ctx?: StageContext): RewardOptionsInput {
  return {
    model: ctx ? ctx.input(p.model, 'model') : p.model,
    data: ctx ? ctx.input(p.data, 'data') : p.data,
    out: ctx ? ctx.dir : '.',
    train: p.train as TrainMode,
    lastK: p.lastK,
    loraR: p.loraR,
    loraAlpha: p.loraAlpha,
    loraDropout: p.loraDropout,
    loraTargets: p.loraTargets,
    template: p.template as TemplateName,
    maxLength: p.maxLength,
    valFrac: p.valFrac,
    epochs: p.epochs,
    batchSize: p.batchSize,
    lr: p.lr,
    weightDecay: p.weightDecay,
    margin: p.margin,
    evalEvery: p.evalEvery,
    seed: p.seed,
    precision: p.precision as PrecisionSetting,
    resume: ctx?.resuming ?? false,
  };
}

export const rewardStage = defineStage({
  type: 'reward',
  summary: 'Train a reward model on preference pairs (Bradley-Terry) from an earlier model',
  params,
  refs: { model: 'model' },
  check(p) {
    resolveRewardOptions(options(p));
  },
  outputs: (ctx) => ({ reward: ctx.dir, metrics: join(ctx.dir, 'metrics.jsonl'), eval: join(ctx.dir, 'eval.json') }),
  async run(ctx, p) {
    await runStageInterruptible(ctx, (signal) =>
      runRewardTraining(options(p, ctx), {
        log: (line) => ctx.log(line),
        quiet: ctx.quiet,
        check: paramCheck(`stage ${ctx.name}`),
        signal,
      }),
    );
  },
});
