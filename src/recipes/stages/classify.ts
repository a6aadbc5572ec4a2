/**
 * Stage `classify`: classification fine-tuning of a pretrained base on a labelled file (TSV split on the first tab,
 * CSV or JSONL), the same run as `llmforge finetune classify`. The stage directory is the classifier run:
 * `llmforge classify --model <out>/<stage>` loads its best checkpoint. Test metrics go to the stage's log and
 * report.json.
 */
import { join } from 'node:path';
import { trainClassifier, type TrainMode } from '../../finetune/classify-train.ts';
import type { Pooling } from '../../finetune/classifier.ts';
import type { Balance } from '../../finetune/classify-data.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

const MODES = ['all', 'last-k', 'head'];
const POOLING = ['last', 'mean'];
const BALANCE = ['none', 'undersample', 'oversample', 'weights'];

function oneOf(name: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw new RecipeError(`${name} must be one of ${allowed.join(', ')}, received "${value}"`);
}

export const classifyStage = defineStage({
  type: 'classify',
  summary: 'Fine-tune a classifier head (and the base) on labelled texts',
  params: {
    model: { type: 'string', help: 'an earlier model or pretrain stage, or a model or run directory' },
    data: { type: 'string', help: 'TSV (label<TAB>text), CSV or JSONL file of labelled texts' },
    train: { type: 'string', help: 'what trains: all, last-k, head', default: 'all' },
    lastK: { type: 'integer', help: 'blocks trained with train: last-k', default: 1, min: 1 },
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
  },
  refs: { model: 'model' },
  check(p) {
    oneOf('train', p.train, MODES);
    oneOf('pooling', p.pooling, POOLING);
    oneOf('balance', p.balance, BALANCE);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'checkpoints', 'best'), report: join(ctx.dir, 'report.json') }),
  async run(ctx, p) {
    const result = await trainClassifier({
      data: p.data, base: ctx.input(p.model, 'model'), out: ctx.dir, mode: p.train as TrainMode, lastK: p.lastK,
      pooling: p.pooling as Pooling, maxLength: p.maxLength, balance: p.balance as Balance, valFrac: p.valFrac,
      testFrac: p.testFrac, epochs: p.epochs, batchSize: p.batchSize, lr: p.lr, weightDecay: p.weightDecay,
      seed: p.seed, resume: ctx.resuming, quiet: ctx.quiet, log: (line) => ctx.log(line),
    });
    writeJsonAtomic(join(ctx.dir, 'report.json'), { labels: result.labels, steps: result.steps, val: result.val, test: result.test });
  },
});
