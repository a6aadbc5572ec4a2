/**
 * Stage `classify`: classification fine-tuning of a pretrained base on a labelled file (TSV split on the first tab,
 * CSV or JSONL), the same run as `llmforge finetune classify`. The stage directory is the classifier run:
 * `llmforge classify --model <out>/<stage>` loads its best checkpoint. Test metrics go to the stage's log and
 * report.json. `train: lora` trains LoRA adapters and the head (loraR, loraAlpha, loraDropout, loraTargets, as the
 * CLI's --lora-* options); the adapter alone is then also written to <out>/<stage>/adapter.
 */
import { join } from 'node:path';
import { trainClassifier, type TrainMode } from '../../finetune/classify-train.ts';
import { DEFAULT_LORA, parseLoraSettings, type LoraSettings } from '../../finetune/lora-finetune.ts';
import type { Pooling } from '../../finetune/classifier.ts';
import type { Balance } from '../../finetune/classify-data.ts';
import { PRECISION_SETTINGS, type PrecisionSetting } from '../../train/precision.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

const MODES = ['all', 'last-k', 'head', 'lora'];
const POOLING = ['last', 'mean'];
const BALANCE = ['none', 'undersample', 'oversample', 'weights'];

/** The LoRA settings of the stage's loraR/loraAlpha/loraDropout/loraTargets ([]: every attention and MLP linear). */
export function loraSettings(p: { loraR: number; loraAlpha: number; loraDropout: number; loraTargets: string[] }): LoraSettings {
  if (!(p.loraAlpha > 0)) throw new RecipeError(`loraAlpha must be a positive number, received ${p.loraAlpha}`);
  if (!(p.loraDropout >= 0 && p.loraDropout < 1)) throw new RecipeError(`loraDropout must be in [0, 1), received ${p.loraDropout}`);
  const bad = p.loraTargets.find((t) => !/^[A-Za-z_][\w.]*$/.test(t));
  if (bad !== undefined) throw new RecipeError(`loraTargets must be module names such as c_attn or q_proj, received ${JSON.stringify(bad)}`);
  return parseLoraSettings({ r: p.loraR, alpha: p.loraAlpha, dropout: p.loraDropout, ...(p.loraTargets.length > 0 ? { targets: p.loraTargets.join(',') } : {}) }, 'classify');
}

function oneOf(name: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw new RecipeError(`${name} must be one of ${allowed.join(', ')}, received "${value}"`);
}

export const classifyStage = defineStage({
  type: 'classify',
  summary: 'Fine-tune a classifier head (and the base) on labelled texts',
  params: {
    model: { type: 'string', help: 'an earlier model or pretrain stage, or a model or run directory' },
    data: { type: 'string', help: 'TSV (label<TAB>text), CSV or JSONL file of labelled texts' },
    train: { type: 'string', help: 'what trains: all, last-k, head, lora (adapters + head)', default: 'all' },
    lastK: { type: 'integer', help: 'blocks trained with train: last-k', default: 1, min: 1 },
    loraR: { type: 'integer', help: 'rank of the adapters with train: lora', default: DEFAULT_LORA.r, min: 1 },
    loraAlpha: { type: 'number', help: 'adapter scale numerator (updates times alpha / r) with train: lora', default: DEFAULT_LORA.alpha },
    loraDropout: { type: 'number', help: 'dropout on the adapter input with train: lora, in [0, 1)', default: DEFAULT_LORA.dropout, min: 0 },
    loraTargets: { type: 'string[]', help: 'linears to adapt with train: lora ([]: every attention and MLP linear)', default: [] },
    pooling: { type: 'string', help: 'head input: last (last real token) or mean', default: 'mean' },
    balance: { type: 'string', help: 'none, undersample, oversample or weights', default: 'weights' },
    maxLength: { type: 'integer', help: 'tokens per text (truncated)', default: 64, min: 1 },
    valFrac: { type: 'number', help: 'validation share of each class', default: 0.1 },
    testFrac: { type: 'number', help: 'test share of each class', default: 0.2 },
    epochs: { type: 'integer', help: 'passes over the training split', default: 10, min: 1 },
    batchSize: { type: 'integer', help: 'examples per step', default: 16, min: 1 },
    lr: { type: 'number', help: 'AdamW learning rate', default: 5e-4 },
    weightDecay: { type: 'number', help: 'AdamW weight decay', default: 0.01 },
    seed: { type: 'integer', help: 'seed of the split, balancing, batch order and head init', default: 1337 },
    precision: { type: 'string', help: 'GEMM precision: auto (bf16 on CPUs with fast bf16 dot products, else fp32), fp32 or bf16', default: 'auto' },
  },
  refs: { model: 'model' },
  check(p) {
    oneOf('train', p.train, MODES);
    oneOf('pooling', p.pooling, POOLING);
    oneOf('balance', p.balance, BALANCE);
    oneOf('precision', p.precision, PRECISION_SETTINGS);
    loraSettings(p);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'checkpoints', 'best'), report: join(ctx.dir, 'report.json') }),
  async run(ctx, p) {
    const result = await trainClassifier({
      data: p.data, base: ctx.input(p.model, 'model'), out: ctx.dir, mode: p.train as TrainMode, lastK: p.lastK,
      ...(p.train === 'lora' ? { lora: loraSettings(p) } : {}),
      pooling: p.pooling as Pooling, maxLength: p.maxLength, balance: p.balance as Balance, valFrac: p.valFrac,
      testFrac: p.testFrac, epochs: p.epochs, batchSize: p.batchSize, lr: p.lr, weightDecay: p.weightDecay,
      seed: p.seed, resume: ctx.resuming, quiet: ctx.quiet, log: (line) => ctx.log(line), precision: p.precision as PrecisionSetting,
    });
    writeJsonAtomic(join(ctx.dir, 'report.json'), { labels: result.labels, steps: result.steps, val: result.val, test: result.test });
  },
});
