/**
 * Stage `domain`: domain adaptation of a base on the user's own text, the same run as `llmforge finetune domain`
 * (continued pretraining from the base's weights, then perplexity before and after on held-out domain text and on
 * optional general text). The stage directory is the adapted model's training run (generate, predict and chat load
 * it) and holds domain-report.json; the before/after table goes to the stage's log.
 */
import { join } from 'node:path';
import { adaptDomain, DOMAIN_REPORT_FILE } from '../../finetune/domain.ts';
import { formatDomainReport } from '../../finetune/domain-report.ts';
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig, type TrainConfig } from '../../train/config.ts';
import { defineStage } from '../registry.ts';
import type { ParamsOf } from '../schema.ts';

const PARAMS = {
  model: { type: 'string', help: 'the base: an earlier model or pretrain stage, or a model or run directory' },
  data: { type: 'string', help: 'domain text files, comma-separated (.txt/.md whole, .jsonl "text" fields)' },
  val: { type: 'string', help: 'held-out domain text file ("": the last valFrac of the data)', default: '' },
  valFrac: { type: 'number', help: 'share of the domain text held out when val is ""', default: 0.1 },
  general: { type: 'string', help: 'general text for the forgetting check: a file, toy-world[:N], or "" for none', default: '' },
  steps: { type: 'integer', help: 'optimizer updates', default: 300, min: 1 },
  lr: { type: 'number', help: 'peak learning rate (cosine decay to lr / 10)', default: 1e-3 },
  batchSize: { type: 'integer', help: 'sequences per update', default: 16, min: 1 },
  context: { type: 'integer', help: "tokens per training sequence and perplexity window (0: the base's context length)", default: 0, min: 0 },
  stride: { type: 'integer', help: 'perplexity window stride (0: the window, disjoint windows)', default: 0, min: 0 },
  warmup: { type: 'integer', help: 'linear warmup updates', default: 30, min: 0 },
  evalInterval: { type: 'integer', help: 'updates between validation evaluations (0: at the end only)', default: 100, min: 0 },
  evalIters: { type: 'integer', help: 'validation batches per evaluation', default: 20, min: 1 },
  samplePrompt: { type: 'string', help: 'prompt continued at each evaluation ("" disables)', default: '\n' },
  seed: { type: 'integer', help: 'seed of data sampling and dropout', default: 1337 },
  precision: { type: 'string', help: 'GEMM precision: auto (bf16 on CPUs with fast bf16 dot products, else fp32), fp32 or bf16', default: 'auto' },
} as const;

function trainConfig(p: ParamsOf<typeof PARAMS>): TrainConfig {
  const c: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG, steps: p.steps, lr: p.lr, minLr: p.lr / 10, batchSize: p.batchSize, context: p.context, warmup: p.warmup,
    evalInterval: p.evalInterval, evalIters: p.evalIters, samplePrompt: p.samplePrompt, seed: p.seed, logInterval: Math.max(1, Math.floor(p.steps / 10)),
    precision: p.precision as TrainConfig['precision'],
  };
  validateTrainConfig(c);
  return c;
}

export const domainStage = defineStage({
  type: 'domain',
  summary: 'Adapt a base to your own text (continued pretraining) with a before/after perplexity report',
  params: PARAMS,
  refs: { model: 'model' },
  check(p) {
    trainConfig(p);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'checkpoints', 'best'), latest: join(ctx.dir, 'checkpoints', 'latest'), report: join(ctx.dir, DOMAIN_REPORT_FILE) }),
  async run(ctx, p) {
    const result = await adaptDomain({
      base: ctx.input(p.model, 'model'), data: p.data.split(',').filter((f) => f !== ''), out: ctx.dir, config: trainConfig(p),
      ...(p.val !== '' ? { val: p.val } : {}), valFraction: p.valFrac, ...(p.general !== '' ? { general: p.general } : {}),
      ...(p.stride > 0 ? { evalStride: p.stride } : {}), resume: ctx.resuming, quiet: ctx.quiet,
    });
    if (result.report) for (const line of formatDomainReport(result.report).split('\n')) ctx.log(line);
  },
});
