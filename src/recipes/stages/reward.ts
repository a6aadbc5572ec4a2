/**
 * Stage `reward`: a reward model trained on preference pairs on top of an earlier model, the same run as
 * `llmforge reward train` (Bradley-Terry loss, held-out pairwise accuracy, checkpoints and resume). The stage
 * directory is the reward run: `<dir>/checkpoints/best` holds the model with the best held-out accuracy, and the
 * directory itself is what `llmforge reward score --model` and the `ppo` stage's `reward` parameter take.
 */
import { join } from 'node:path';
import { trainRewardModel } from '../../align/reward-train.ts';
import { TEMPLATE_NAMES } from '../../chat/templates.ts';
import { PRECISION_SETTINGS, type PrecisionSetting } from '../../train/precision.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

const MODES = ['all', 'last-k', 'head'] as const;

export const rewardStage = defineStage({
  type: 'reward',
  summary: 'Train a reward model on preference pairs (Bradley-Terry) from an earlier model',
  params: {
    model: { type: 'string', help: 'the base: an earlier sft, pretrain or model stage, or a model or run directory' },
    data: { type: 'string', help: 'preference pairs (JSON array or JSONL: {instruction, input, chosen, rejected}, {prompt, chosen, rejected} or chats)' },
    train: { type: 'string', help: 'what trains: all, last-k (last lastK blocks + final norm + head) or head', default: 'all' },
    lastK: { type: 'integer', help: 'blocks trained with train: last-k', default: 1, min: 1 },
    template: { type: 'string', help: 'prompt template: chatml, alpaca or model', default: 'chatml' },
    maxLength: { type: 'integer', help: 'longest token row (capped at the context; longer rows keep their last tokens)', default: 1024, min: 2 },
    valFrac: { type: 'number', help: 'held-out share of the pairs', default: 0.1 },
    epochs: { type: 'integer', help: 'passes over the training pairs', default: 1, min: 1 },
    batchSize: { type: 'integer', help: 'pairs per step (two rows each)', default: 8, min: 1 },
    lr: { type: 'number', help: 'AdamW learning rate', default: 1e-4 },
    weightDecay: { type: 'number', help: 'AdamW weight decay', default: 0.01, min: 0 },
    margin: { type: 'number', help: 'Bradley-Terry margin', default: 0, min: 0 },
    evalEvery: { type: 'integer', help: 'held-out evaluation every N steps besides each epoch end (0: epoch ends only)', default: 0, min: 0 },
    seed: { type: 'integer', help: 'seed of the split, batch order and head init', default: 1337 },
    precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16', default: 'auto' },
  },
  refs: { model: 'model' },
  check(p) {
    if (!(MODES as readonly string[]).includes(p.train)) throw new RecipeError(`train must be one of ${MODES.join(', ')}, received "${p.train}"`);
    if (!(TEMPLATE_NAMES as readonly string[]).includes(p.template)) throw new RecipeError(`template must be one of ${TEMPLATE_NAMES.join(', ')}, received "${p.template}"`);
    if (!(p.valFrac >= 0 && p.valFrac < 1)) throw new RecipeError(`valFrac must be in [0, 1), received ${p.valFrac}`);
    if (!(p.lr > 0)) throw new RecipeError(`lr must be a positive number, received ${p.lr}`);
    if (!(PRECISION_SETTINGS as readonly string[]).includes(p.precision)) throw new RecipeError(`precision must be one of ${PRECISION_SETTINGS.join(', ')}, received "${p.precision}"`);
  },
  outputs: (ctx) => ({ reward: ctx.dir, metrics: join(ctx.dir, 'metrics.jsonl'), eval: join(ctx.dir, 'eval.json') }),
  async run(ctx, p) {
    const result = await trainRewardModel({
      data: ctx.input(p.data, 'data'), base: ctx.input(p.model, 'model'), out: ctx.dir, mode: p.train as (typeof MODES)[number], lastK: p.lastK,
      template: p.template, maxLength: p.maxLength, valFrac: p.valFrac, epochs: p.epochs, batchSize: p.batchSize, lr: p.lr,
      weightDecay: p.weightDecay, margin: p.margin, evalEvery: p.evalEvery, seed: p.seed, resume: ctx.resuming,
      precision: p.precision as PrecisionSetting, quiet: ctx.quiet, log: (line) => ctx.log(line),
    });
    writeJsonAtomic(join(ctx.dir, 'eval.json'), { steps: result.steps, val: result.val, bestValAccuracy: result.bestValAccuracy, trainable: result.trainable, total: result.total });
  },
});
