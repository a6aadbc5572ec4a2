/**
 * Stage `domain`: domain adaptation of a base on the user's own text, the same run as `llmforge finetune domain`
 * (continued pretraining from the base's weights, then perplexity before and after on held-out domain text and on
 * optional general text). The stage directory is the adapted model's training run (generate, predict and chat load
 * it) and holds domain-report.json; the before/after table goes to the stage's log.
 */
import { join } from 'node:path';
import { DOMAIN_REPORT_FILE } from '../../finetune/domain.ts';
import { formatDomainReport } from '../../finetune/domain-report.ts';
import {
  DEFAULT_DOMAIN_OPTIONS as D,
  resolveDomainOptions,
  runDomainAdaptation,
  type DomainRunOptions,
} from '../../finetune/domain-run.ts';
import { defineStage } from '../registry.ts';
import type { ParamsOf } from '../schema.ts';
import { runStageInterruptible } from './interruptible.ts';

/** Training settings are optional: left out, runDomainAdaptation's default (DEFAULT_DOMAIN_OPTIONS) applies. */
const PARAMS = {
  model: { type: 'string', help: 'the base: an earlier model or pretrain stage, or a model or run directory' },
  data: { type: 'string', help: 'domain text files, comma-separated (.txt/.md whole, .jsonl "text" fields)' },
  val: { type: 'string', help: 'held-out domain text file ("": the last valFrac of the data)', default: '' },
  valFrac: {
    type: 'number',
    help: `share of the domain text held out when val is "" (default ${D.valFrac})`,
    optional: true,
  },
  general: {
    type: 'string',
    help: 'general text for the forgetting check: a file, toy-world[:N], or "" for none',
    default: '',
  },
  steps: { type: 'integer', help: `optimizer updates (default ${D.steps})`, optional: true, min: 1 },
  lr: { type: 'number', help: `peak learning rate (default ${D.lr})`, optional: true },
  minLr: { type: 'number', help: 'floor of the cosine decay (default lr / 10)', optional: true },
  batchSize: { type: 'integer', help: `sequences per update (default ${D.batchSize})`, optional: true, min: 1 },
  context: {
    type: 'integer',
    help: "tokens per training sequence and perplexity window (0: the base's context length, the default)",
    optional: true,
    min: 0,
  },
  stride: {
    type: 'integer',
    help: 'perplexity window stride (0: the window, disjoint windows; the default)',
    optional: true,
    min: 0,
  },
  warmup: { type: 'integer', help: 'linear warmup updates (default steps / 10, at most 100)', optional: true, min: 0 },
  evalInterval: {
    type: 'integer',
    help: `updates between validation evaluations (0: at the end only) (default ${D.evalInterval})`,
    optional: true,
    min: 0,
  },
  evalIters: {
    type: 'integer',
    help: `validation batches per evaluation (default ${D.evalIters})`,
    optional: true,
    min: 1,
  },
  samplePrompt: {
    type: 'string',
    help: `prompt continued at each evaluation ("" disables) (default ${JSON.stringify(D.samplePrompt)})`,
    optional: true,
  },
  seed: { type: 'integer', help: `seed of data sampling and dropout (default ${D.seed})`, optional: true },
  precision: {
    type: 'string',
    help: `GEMM precision: auto (bf16 on CPUs with fast bf16 dot products, else fp32), fp32 or bf16 (default ${D.precision})`,
    optional: true,
  },
} as const;

/** The stage's parameters as runDomainAdaptation's options (left-out ones stay out; "" val and general: none). */
function domainOptions(p: ParamsOf<typeof PARAMS>, base: string, out: string): DomainRunOptions {
  const { model: _m, data, val, general, ...rest } = p;
  const set = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return {
    ...(set as Partial<DomainRunOptions>),
    base,
    out,
    data: data.split(',').filter((f) => f !== ''),
    ...(val !== '' ? { val } : {}),
    ...(general !== '' ? { general } : {}),
  };
}

export const domainStage = defineStage({
  type: 'domain',
  summary: 'Adapt a base to your own text (continued pretraining) with a before/after perplexity report',
  params: PARAMS,
  refs: { model: 'model' },
  check(p) {
    resolveDomainOptions(domainOptions(p, '', ''));
  },
  outputs: (ctx) => ({
    model: join(ctx.dir, 'checkpoints', 'best'),
    latest: join(ctx.dir, 'checkpoints', 'latest'),
    report: join(ctx.dir, DOMAIN_REPORT_FILE),
  }),
  async run(ctx, p) {
    const result = await runStageInterruptible(ctx, (signal) =>
      runDomainAdaptation({
        ...domainOptions(p, ctx.input(p.model, 'model'), ctx.dir),
        resume: ctx.resuming,
        quiet: ctx.quiet,
        signal,
      }),
    );
    if (result.report) for (const line of formatDomainReport(result.report).split('\n')) ctx.log(line);
  },
});
