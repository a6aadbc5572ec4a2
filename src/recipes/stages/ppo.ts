/**
 * Stage `ppo`: RLHF with PPO, the same run as `llmforge ppo` with all weights training: an earlier instruction-tuned
 * model answers prompts from a file, an earlier `reward` stage scores the answers, and PPO with a per-token KL
 * penalty toward a frozen copy of the start raises the reward; held-out prompts are answered and scored before and
 * after. Checkpoints every `saveEvery` iterations, and a rerun after an interruption resumes from the latest one.
 * The stage directory is the PPO run: `<dir>/model` is the tuned policy, beside metrics.jsonl, samples.jsonl and
 * eval.json.
 */
import { join } from 'node:path';
import { frozenCopy } from '../../align/dpo-train.ts';
import { evaluatePrompts, loadPrompts, promptIds, rewardModelScorer } from '../../align/ppo-rollout.ts';
import { DEFAULT_PPO_CONFIG, trainPpo, type PpoConfig } from '../../align/ppo-train.ts';
import { loadRewardModel } from '../../align/reward-model.ts';
import { formatTrainable } from '../../finetune/lora-finetune.ts';
import { resolveTemplate, TEMPLATE_NAMES } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { resolveSampling } from '../../generate/sampling.ts';
import { trainableParameters } from '../../nn/lora.ts';
import { Rng } from '../../tensor/random.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { describePrecision, PRECISION_SETTINGS, resolvePrecision, type PrecisionSetting } from '../../train/precision.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

const D = DEFAULT_PPO_CONFIG;

export const ppoStage = defineStage({
  type: 'ppo',
  summary: 'Optimize an instruction-tuned model against a reward model (RLHF: PPO with a KL penalty)',
  params: {
    model: { type: 'string', help: 'the policy to start from (also the KL reference): an earlier sft or dpo stage, or a model directory' },
    reward: { type: 'string', help: 'the reward model: an earlier reward stage or a reward run directory' },
    data: { type: 'string', help: 'prompts: preference pairs or instruction / chat records (their answers are ignored)' },
    iterations: { type: 'integer', help: 'rollout batches (sample, score, PPO epochs)', default: D.iterations, min: 1 },
    batchSize: { type: 'integer', help: 'prompts answered per iteration', default: D.batchSize, min: 1 },
    miniBatchSize: { type: 'integer', help: 'responses per PPO update', default: D.miniBatchSize, min: 1 },
    ppoEpochs: { type: 'integer', help: 'passes over each batch of responses', default: D.ppoEpochs, min: 1 },
    lr: { type: 'number', help: 'AdamW learning rate (constant)', default: D.lr },
    klCoef: { type: 'number', help: 'KL penalty coefficient (the initial one with targetKl)', default: D.klCoef, min: 0 },
    targetKl: { type: 'number', help: 'adaptive KL: steer the coefficient toward this KL per response in nats (0: off)', default: 0, min: 0 },
    gamma: { type: 'number', help: 'discount over response tokens, in [0, 1]', default: D.gamma },
    lambda: { type: 'number', help: 'GAE lambda, in [0, 1]', default: D.lambda },
    clipRange: { type: 'number', help: 'PPO ratio clip range', default: D.clipRange },
    vfCoef: { type: 'number', help: 'weight of the value loss', default: D.vfCoef, min: 0 },
    maxNewTokens: { type: 'integer', help: 'longest response in tokens', default: D.maxNewTokens, min: 1 },
    temperature: { type: 'number', help: 'sampling temperature of the rollouts (> 0)', default: 1 },
    template: { type: 'string', help: 'prompt template of the policy: chatml, alpaca or model', default: 'chatml' },
    valPrompts: { type: 'integer', help: 'held-out prompts, answered and scored before and after training', default: 50, min: 0 },
    sampleEvery: { type: 'integer', help: 'log three sample responses every N iterations (0: never)', default: D.sampleEvery, min: 0 },
    saveEvery: { type: 'integer', help: 'checkpoint every N iterations (and at the end)', default: D.saveEvery, min: 0 },
    seed: { type: 'integer', help: 'seed of the split, prompt order, sampling, mini-batches and value head', default: D.seed },
    precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16', default: 'auto' },
  },
  refs: { model: 'model', reward: 'reward' },
  check(p) {
    if (!(p.lr > 0)) throw new RecipeError(`lr must be a positive number, received ${p.lr}`);
    if (!(p.temperature > 0)) throw new RecipeError(`temperature must be a positive number, received ${p.temperature}`);
    if (!(p.clipRange > 0)) throw new RecipeError(`clipRange must be a positive number, received ${p.clipRange}`);
    if (!(p.gamma >= 0 && p.gamma <= 1)) throw new RecipeError(`gamma must be in [0, 1], received ${p.gamma}`);
    if (!(p.lambda >= 0 && p.lambda <= 1)) throw new RecipeError(`lambda must be in [0, 1], received ${p.lambda}`);
    if (p.targetKl > 0 && p.klCoef === 0) throw new RecipeError('targetKl adapts klCoef multiplicatively, so klCoef must be > 0 with it');
    if (!(TEMPLATE_NAMES as readonly string[]).includes(p.template)) throw new RecipeError(`template must be one of ${TEMPLATE_NAMES.join(', ')}, received "${p.template}"`);
    if (!(PRECISION_SETTINGS as readonly string[]).includes(p.precision)) throw new RecipeError(`precision must be one of ${PRECISION_SETTINGS.join(', ')}, received "${p.precision}"`);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'model'), metrics: join(ctx.dir, 'metrics.jsonl'), eval: join(ctx.dir, 'eval.json') }),
  run(ctx, p) {
    const config: PpoConfig = {
      ...D, iterations: p.iterations, batchSize: p.batchSize, miniBatchSize: p.miniBatchSize, ppoEpochs: p.ppoEpochs, lr: p.lr, klCoef: p.klCoef,
      targetKl: p.targetKl > 0 ? p.targetKl : null, gamma: p.gamma, lambda: p.lambda, clipRange: p.clipRange, vfCoef: p.vfCoef,
      maxNewTokens: p.maxNewTokens, sampling: resolveSampling({ temperature: p.temperature }), sampleEvery: p.sampleEvery, saveEvery: p.saveEvery, seed: p.seed,
    };
    const all = loadPrompts(ctx.input(p.data, 'data'));
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(ctx.input(p.model, 'model'));
    if (config.maxNewTokens >= model.config.blockSize) throw new RecipeError(`stage ${ctx.name}: maxNewTokens ${config.maxNewTokens} leaves no room for a prompt in the model's context of ${model.config.blockSize} tokens`);
    const template = resolveTemplate(p.template, p.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined) throw new RecipeError(`stage ${ctx.name}: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which ends every response`);
    const rm = loadRewardModel(ctx.input(p.reward, 'reward'), new Rng(0));
    const scorer = rewardModelScorer(rm);
    const prompts = [...all];
    const rng = new Rng(config.seed);
    for (let i = prompts.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [prompts[i], prompts[j]] = [prompts[j]!, prompts[i]!];
    }
    const valCount = Math.min(p.valPrompts, Math.floor(prompts.length / 2));
    const train = prompts.slice(0, prompts.length - valCount);
    const valid = prompts.slice(prompts.length - valCount).map((record) => ({ record, ids: promptIds(tokenizer, template, record, eos, model.config.blockSize, config.maxNewTokens).ids }));
    const reference = frozenCopy(model);
    const { trainable, total } = trainableParameters(model);
    ctx.log(`ppo: ${train.length} train / ${valid.length} held-out prompts, template ${template.name}, reward model ${rm.dir}, ${config.batchSize} responses per iteration of up to ${config.maxNewTokens} tokens, ${config.ppoEpochs} PPO epochs of ${config.miniBatchSize}, lr ${config.lr}, kl-coef ${config.klCoef}${config.targetKl !== null ? ` (adaptive, target ${config.targetKl})` : ''}`);
    ctx.log(`training all: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(p.precision as PrecisionSetting))}`);
    const rolloutOpts = { sampling: config.sampling, maxNewTokens: config.maxNewTokens, eosId: eos };
    const evalSeed = config.seed + 7;
    const before = valid.length > 0 ? evaluatePrompts(model, tokenizer, valid, scorer, rolloutOpts, evalSeed) : null;
    const result = trainPpo({ model, reference, tokenizer, template, eosId: eos, prompts: train, scorer, out: ctx.dir, resume: ctx.resuming, precision: p.precision as PrecisionSetting }, config, (i) => {
      ctx.log(`iter ${i.iteration}/${config.iterations}: reward ${i.reward.toFixed(3)} | kl ${i.kl.toFixed(3)} (coef ${i.klCoef.toPrecision(3)}) | policy ${i.policyLoss.toFixed(4)} | value ${i.valueLoss.toFixed(4)} | clip ${(100 * i.clipFrac).toFixed(1)}% | length ${i.responseLength.toFixed(1)}`);
      for (const s of i.samples ?? []) ctx.log(`  sample (reward ${s.reward.toFixed(2)}): ${JSON.stringify(s.prompt.slice(0, 60))} -> ${JSON.stringify(s.response.slice(0, 100))}`);
    }, (note) => ctx.log(`note: ${note}`));
    const after = valid.length > 0 ? evaluatePrompts(model, tokenizer, valid, scorer, rolloutOpts, evalSeed) : null;
    const heldOut = before && after ? { prompts: valid.length, before: { reward: before.reward, length: before.length }, after: { reward: after.reward, length: after.length } } : null;
    writeJsonAtomic(join(ctx.dir, 'eval.json'), { iterations: config.iterations, heldOut, first: result.first, last: result.last });
    if (heldOut) ctx.log(`held-out prompts (${valid.length}): mean reward ${heldOut.after.reward.toFixed(3)} after ${config.iterations} iterations (${heldOut.before.reward.toFixed(3)} at the start), mean length ${heldOut.after.length.toFixed(1)} tokens (${heldOut.before.length.toFixed(1)})`);
    ctx.log(`wrote ${join(ctx.dir, 'model')}, metrics.jsonl, samples.jsonl, eval.json`);
  },
});
