/**
 * Stage `dpo`: direct preference optimization of an earlier instruction-tuned model on preference pairs: the stage
 * turns its parameters into options for runDpo (src/align/dpo-run.ts), the run `llmforge dpo` makes too (all
 * weights against a frozen copy of the start, or with `train: lora` adapters against the model with adapters off;
 * loss, implicit rewards and reward accuracy on training and held-out pairs, checkpoints and resume). The stage
 * directory is the DPO run: `<dir>/model` is the aligned model (chat and the `chat-sample` and `eval-mc` stages
 * open it), beside metrics.jsonl and eval.json. The held-out pairs are those a `reward` stage with the same valFrac
 * and seed holds out.
 */
import { join } from 'node:path';
import type { DpoLossType } from '../../align/dpo-loss.ts';
import { DEFAULT_DPO_OPTIONS as D, resolveDpoOptions, type DpoOptionsInput } from '../../align/dpo-options.ts';
import { runDpo } from '../../align/dpo-run.ts';
import { paramCheck } from '../../align/option-checks.ts';
import type { TemplateName } from '../../chat/templates.ts';
import type { PrecisionSetting } from '../../train/precision.ts';
import { defineStage, type StageContext } from '../registry.ts';
import type { ParamsOf } from '../schema.ts';
import { LORA_PARAMS } from './lora-params.ts';
import { runStageInterruptible } from './interruptible.ts';

const params = {
  model: {
    type: 'string',
    help: 'the policy to start from (also the reference): an earlier sft stage or a model directory',
  },
  data: { type: 'string', help: 'preference pairs (JSON array or JSONL)' },
  train: {
    type: 'string',
    help: 'what trains: all (reference: a frozen copy) or lora (reference: adapters off)',
    default: D.train,
  },
  ...LORA_PARAMS,
  beta: {
    type: 'number',
    help: 'KL strength: smaller lets the policy move further from the reference',
    default: D.beta,
  },
  loss: { type: 'string', help: 'sigmoid (DPO) or ipo', default: D.loss },
  labelSmoothing: {
    type: 'number',
    help: 'conservative DPO: assumed share of flipped labels, in [0, 0.5) (sigmoid only)',
    default: D.labelSmoothing,
  },
  steps: { type: 'integer', help: 'optimizer updates', default: D.steps, min: 1 },
  batchSize: { type: 'integer', help: 'preference pairs per update', default: D.batchSize, min: 1 },
  lr: { type: 'number', help: 'AdamW peak learning rate (warmup, cosine decay to a tenth)', default: D.lr },
  template: {
    type: 'string',
    help: 'prompt template: chatml, alpaca or model (the one the model was tuned with)',
    default: D.template,
  },
  maxLength: {
    type: 'integer',
    help: 'longest prompt + response in tokens (0: the context + 1); the prompt is cut first',
    default: 0,
    min: 0,
  },
  valFrac: { type: 'number', help: 'held-out share of the pairs', default: D.valFrac },
  evalEvery: {
    type: 'integer',
    help: 'evaluate (train slice and held-out) every N updates (0: at the end only)',
    default: D.evalEvery,
    min: 0,
  },
  seed: { type: 'integer', help: 'seed of the split, batch order, adapters and dropout', default: D.seed },
  precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16', default: D.precision },
} as const;

/** The run's options from the stage's parameters (paths of earlier stages resolved when `ctx` is given). */
function options(p: ParamsOf<typeof params>, ctx?: StageContext): DpoOptionsInput {
  return {
    model: ctx ? ctx.input(p.model, 'model') : p.model,
    data: ctx ? ctx.input(p.data, 'data') : p.data,
    out: ctx ? ctx.dir : '.',
    train: p.train as 'all' | 'lora',
    loraR: p.loraR,
    loraAlpha: p.loraAlpha,
    loraDropout: p.loraDropout,
    loraTargets: p.loraTargets,
    beta: p.beta,
    loss: p.loss as DpoLossType,
    labelSmoothing: p.labelSmoothing,
    steps: p.steps,
    batchSize: p.batchSize,
    lr: p.lr,
    template: p.template as TemplateName,
    maxLength: p.maxLength === 0 ? null : p.maxLength,
    valFrac: p.valFrac,
    evalEvery: p.evalEvery,
    seed: p.seed,
    precision: p.precision as PrecisionSetting,
    resume: ctx?.resuming ?? false,
  };
}

export const dpoStage = defineStage({
  type: 'dpo',
  summary: 'Align an instruction-tuned model to preference pairs (direct preference optimization)',
  params,
  refs: { model: 'model' },
  check(p) {
    resolveDpoOptions(options(p));
  },
  outputs: (ctx) => ({
    model: join(ctx.dir, 'model'),
    metrics: join(ctx.dir, 'metrics.jsonl'),
    eval: join(ctx.dir, 'eval.json'),
  }),
  async run(ctx, p) {
    await runStageInterruptible(ctx, (signal) =>
      runDpo(options(p, ctx), {
        log: (line) => ctx.log(line),
        quiet: ctx.quiet,
        check: paramCheck(`stage ${ctx.name}`),
        signal,
      }),
    );
    ctx.log(`chat with: llmforge chat --model ${join(ctx.dir, 'model')}`);
  },
});
