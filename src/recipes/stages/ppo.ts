/**
 * Stage `ppo`: RLHF with PPO: the stage turns its parameters into options for runPpo (src/align/ppo-run.ts), the
 * run `llmforge ppo` makes too: an earlier instruction-tuned model answers prompts from a file, an earlier `reward`
 * stage scores the answers, and PPO with a per-token KL penalty toward the start (a frozen copy, or with
 * `train: lora` the model with adapters off) raises the reward; held-out prompts are answered and scored before and
 * after. Checkpoints every `saveEvery` iterations, and a rerun after an interruption resumes from the latest one.
 * The stage directory is the PPO run: `<dir>/model` is the tuned policy, beside metrics.jsonl, samples.jsonl and
 * eval.json.
 */
import { join } from 'node:path';
import { paramCheck } from '../../align/option-checks.ts';
import { DEFAULT_PPO_OPTIONS as D, resolvePpoOptions, type PpoOptionsInput } from '../../align/ppo-options.ts';
import { runPpo } from '../../align/ppo-run.ts';
import type { TemplateName } from '../../chat/templates.ts';
import type { PrecisionSetting } from '../../train/precision.ts';
import { defineStage, type StageContext } from '../registry.ts';
import type { ParamsOf } from '../schema.ts';
import { LORA_PARAMS } from './lora-params.ts';
import { runStageInterruptible } from './interruptible.ts';

const params = {
  model: {
    type: 'string',
    help: 'the policy to start from (also the KL reference): an earlier sft or dpo stage, or a model directory',
  },
  reward: { type: 'string', help: 'the reward model: an earlier reward stage or a reward run directory' },
  data: { type: 'string', help: 'prompts: preference pairs or instruction / chat records (their answers are ignored)' },
  train: {
    type: 'string',
    help: 'what trains: all (reference: a frozen copy) or lora (reference: adapters off)',
    default: D.train,
  },
  ...LORA_PARAMS,
  iterations: { type: 'integer', help: 'rollout batches (sample, score, PPO epochs)', default: D.iterations, min: 1 },
  batchSize: { type: 'integer', help: 'prompts answered per iteration', default: D.batchSize, min: 1 },
  miniBatchSize: { type: 'integer', help: 'responses per PPO update', default: D.miniBatchSize, min: 1 },
  ppoEpochs: { type: 'integer', help: 'passes over each batch of responses', default: D.ppoEpochs, min: 1 },
  lr: { type: 'number', help: 'AdamW learning rate (constant)', default: D.lr },
  klCoef: { type: 'number', help: 'KL penalty coefficient (the initial one with targetKl)', default: D.klCoef, min: 0 },
  targetKl: {
    type: 'number',
    help: 'adaptive KL: steer the coefficient toward this KL per response in nats (0: off)',
    default: 0,
    min: 0,
  },
  klHorizon: { type: 'number', help: 'adaptive KL horizon in responses', default: D.klHorizon },
  gamma: { type: 'number', help: 'discount over response tokens, in [0, 1]', default: D.gamma },
  lambda: { type: 'number', help: 'GAE lambda, in [0, 1]', default: D.lambda },
  clipRange: { type: 'number', help: 'PPO ratio clip range', default: D.clipRange },
  clipRangeValue: { type: 'number', help: 'value clip range around the rollout values', default: D.clipRangeValue },
  vfCoef: { type: 'number', help: 'weight of the value loss', default: D.vfCoef, min: 0 },
  maxNewTokens: { type: 'integer', help: 'longest response in tokens', default: D.maxNewTokens, min: 1 },
  temperature: { type: 'number', help: 'sampling temperature of the rollouts (> 0)', default: D.temperature },
  topK: { type: 'integer', help: 'sample from the k most likely tokens only (0: off)', default: D.topK, min: 0 },
  topP: { type: 'number', help: 'nucleus sampling, in (0, 1] (1: off)', default: D.topP },
  template: { type: 'string', help: 'prompt template of the policy: chatml, alpaca or model', default: D.template },
  valPrompts: {
    type: 'integer',
    help: 'held-out prompts, answered and scored before and after training',
    default: D.valPrompts,
    min: 0,
  },
  sampleEvery: {
    type: 'integer',
    help: 'log three sample responses every N iterations (0: never)',
    default: D.sampleEvery,
    min: 0,
  },
  saveEvery: { type: 'integer', help: 'checkpoint every N iterations (and at the end)', default: D.saveEvery, min: 0 },
  seed: {
    type: 'integer',
    help: 'seed of the split, prompt order, sampling, mini-batches and value head',
    default: D.seed,
  },
  precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16', default: D.precision },
} as const;

/** The run's options from the stage's parameters (paths of earlier stages resolved when `ctx` is given). */
function options(p: ParamsOf<typeof params>, ctx?: StageContext): PpoOptionsInput {
  return {
    model: ctx ? ctx.input(p.model, 'model') : p.model,
    rewardModel: ctx ? ctx.input(p.reward, 'reward') : p.reward,
    prompts: ctx ? ctx.input(p.data, 'data') : p.data,
    out: ctx ? ctx.dir : '.',
    train: p.train as 'all' | 'lora',
    loraR: p.loraR,
    loraAlpha: p.loraAlpha,
    loraDropout: p.loraDropout,
    loraTargets: p.loraTargets,
    iterations: p.iterations,
    batchSize: p.batchSize,
    miniBatchSize: p.miniBatchSize,
    ppoEpochs: p.ppoEpochs,
    lr: p.lr,
    klCoef: p.klCoef,
    targetKl: p.targetKl > 0 ? p.targetKl : null,
    klHorizon: p.klHorizon,
    gamma: p.gamma,
    lambda: p.lambda,
    clipRange: p.clipRange,
    clipRangeValue: p.clipRangeValue,
    vfCoef: p.vfCoef,
    maxNewTokens: p.maxNewTokens,
    temperature: p.temperature,
    topK: p.topK,
    topP: p.topP,
    template: p.template as TemplateName,
    valPrompts: p.valPrompts,
    sampleEvery: p.sampleEvery,
    saveEvery: p.saveEvery,
    seed: p.seed,
    precision: p.precision as PrecisionSetting,
    resume: ctx?.resuming ?? false,
  };
}

/** The stage's parameter names where they differ from the options' fields. */
const RENAMES = { rewardModel: 'reward', prompts: 'data' };

export const ppoStage = defineStage({
  type: 'ppo',
  summary: 'Optimize an instruction-tuned model against a reward model (RLHF: PPO with a KL penalty)',
  params,
  refs: { model: 'model', reward: 'reward' },
  check(p) {
    resolvePpoOptions(options(p), paramCheck('', RENAMES));
  },
  outputs: (ctx) => ({
    model: join(ctx.dir, 'model'),
    metrics: join(ctx.dir, 'metrics.jsonl'),
    eval: join(ctx.dir, 'eval.json'),
  }),
  async run(ctx, p) {
    await runStageInterruptible(ctx, (signal) =>
      runPpo(options(p, ctx), {
        log: (line) => ctx.log(line),
        quiet: ctx.quiet,
        check: paramCheck(`stage ${ctx.name}`, RENAMES),
        signal,
      }),
    );
  },
});
