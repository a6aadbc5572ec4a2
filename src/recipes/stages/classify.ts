/**
 * Stage `classify`: classification fine-tuning of a pretrained base on a labelled file (TSV split on the first tab,
 * CSV or JSONL), the same run as `llmforge finetune classify`. The stage directory is the classifier run:
 * `llmforge classify --model <out>/<stage>` loads its best checkpoint. Test metrics go to the stage's log and
 * report.json. `train: lora` trains LoRA adapters and the head (loraR, loraAlpha, loraDropout, loraTargets, as the
 * CLI's --lora-* options); the adapter alone is then also written to <out>/<stage>/adapter.
 */
import { join } from 'node:path';
import {
  DEFAULT_CLASSIFY_OPTIONS as D,
  resolveClassifyOptions,
  runClassification,
  type ClassifyOptions,
} from '../../finetune/classify-run.ts';
import { DEFAULT_LORA } from '../../finetune/lora-finetune.ts';
import { OptionCheck } from '../../train/option-check.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import type { ParamsOf } from '../schema.ts';
import { runStageInterruptible } from './interruptible.ts';

/** The LoRA parameters (classify and sft): optional, DEFAULT_LORA when left out. */
export const LORA_PARAMS = {
  loraR: {
    type: 'integer',
    help: `rank of the adapters with train: lora (default ${DEFAULT_LORA.r})`,
    optional: true,
    min: 1,
  },
  loraAlpha: {
    type: 'number',
    help: `adapter scale numerator (updates times alpha / r) with train: lora (default ${DEFAULT_LORA.alpha})`,
    optional: true,
  },
  loraDropout: {
    type: 'number',
    help: `dropout on the adapter input with train: lora, in [0, 1) (default ${DEFAULT_LORA.dropout})`,
    optional: true,
    min: 0,
  },
  loraTargets: {
    type: 'string[]',
    help: 'linears to adapt with train: lora ([]: every attention and MLP linear)',
    optional: true,
  },
} as const;

/** Every setting is optional: left out, runClassification's default (DEFAULT_CLASSIFY_OPTIONS) applies. */
const PARAMS = {
  model: { type: 'string', help: 'an earlier model or pretrain stage, or a model or run directory' },
  data: { type: 'string', help: 'TSV (label<TAB>text), CSV or JSONL file of labelled texts' },
  train: {
    type: 'string',
    help: `what trains: all, last-k, head, lora (adapters + head) (default ${D.mode})`,
    optional: true,
  },
  lastK: { type: 'integer', help: `blocks trained with train: last-k (default ${D.lastK})`, optional: true, min: 1 },
  ...LORA_PARAMS,
  pooling: {
    type: 'string',
    help: `head input: last (last real token) or mean (default ${D.pooling})`,
    optional: true,
  },
  balance: { type: 'string', help: `none, undersample, oversample or weights (default ${D.balance})`, optional: true },
  maxLength: { type: 'integer', help: `tokens per text (truncated) (default ${D.maxLength})`, optional: true, min: 1 },
  valFrac: { type: 'number', help: `validation share of each class (default ${D.valFrac})`, optional: true },
  testFrac: { type: 'number', help: `test share of each class (default ${D.testFrac})`, optional: true },
  epochs: { type: 'integer', help: `passes over the training split (default ${D.epochs})`, optional: true, min: 1 },
  batchSize: { type: 'integer', help: `examples per step (default ${D.batchSize})`, optional: true, min: 1 },
  lr: { type: 'number', help: `AdamW learning rate (default ${D.lr})`, optional: true },
  weightDecay: { type: 'number', help: `AdamW weight decay (default ${D.weightDecay})`, optional: true },
  seed: {
    type: 'integer',
    help: `seed of the split, balancing, batch order and head init (default ${D.seed})`,
    optional: true,
  },
  precision: {
    type: 'string',
    help: `GEMM precision: auto (bf16 on CPUs with fast bf16 dot products, else fp32), fp32 or bf16 (default ${D.precision})`,
    optional: true,
  },
} as const;

/** Option errors name the stage's parameters (the run's `mode` is the stage's `train`). */
export const STAGE_CHECK = new OptionCheck('', (f) => (f === 'mode' ? 'train' : f));

/** The stage's parameters as runClassification's options (left-out ones stay out). */
function classifyOptions(p: ParamsOf<typeof PARAMS>, base: string, out: string): ClassifyOptions {
  const { model: _m, train, ...rest } = p;
  const set = Object.fromEntries(Object.entries({ ...rest, mode: train }).filter(([, v]) => v !== undefined));
  return { ...(set as Partial<ClassifyOptions>), base, out, data: p.data };
}

export const classifyStage = defineStage({
  type: 'classify',
  summary: 'Fine-tune a classifier head (and the base) on labelled texts',
  params: PARAMS,
  refs: { model: 'model' },
  check(p) {
    resolveClassifyOptions(classifyOptions(p, '', ''), STAGE_CHECK);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'checkpoints', 'best'), report: join(ctx.dir, 'report.json') }),
  async run(ctx, p) {
    const result = await runStageInterruptible(ctx, (signal) =>
      runClassification(
        {
          ...classifyOptions(p, ctx.input(p.model, 'model'), ctx.dir),
          resume: ctx.resuming,
          quiet: ctx.quiet,
          signal,
          log: (line) => ctx.log(line),
        },
        STAGE_CHECK,
      ),
    );
    writeJsonAtomic(join(ctx.dir, 'report.json'), {
      labels: result.labels,
      steps: result.steps,
      val: result.val,
      test: result.test,
    });
  },
});
