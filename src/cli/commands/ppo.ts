/**
 * `llmforge ppo`: RLHF with PPO. The policy (an instruction-tuned model) answers prompts from a file (the prompt part
 * of preference pairs or of instruction / chat records), a reward model trained by `llmforge reward train` scores
 * the answers, and PPO with a per-token KL penalty toward the starting model (a frozen copy, or with --train lora the
 * same model with adapters off) raises the reward. Held-out prompts are answered and scored before and after
 * training. Writes <out>/model (opened by generate and chat; its value head beside it), <out>/adapter for LoRA,
 * metrics.jsonl, samples.jsonl, eval.json and resumable checkpoints (--resume).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { frozenCopy } from '../../align/dpo-train.ts';
import { evaluatePrompts, loadPrompts, promptIds, rewardModelScorer } from '../../align/ppo-rollout.ts';
import { DEFAULT_PPO_CONFIG, trainPpo, type PpoConfig, type PpoRun } from '../../align/ppo-train.ts';
import { loadRewardModel } from '../../align/reward-model.ts';
import { attachLora, formatTrainable } from '../../finetune/lora-finetune.ts';
import { resolveTemplate } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { resolveSampling } from '../../generate/sampling.ts';
import { trainableParameters } from '../../nn/lora.ts';
import { Rng } from '../../tensor/random.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { describePrecision, parsePrecisionSetting, resolvePrecision } from '../../train/precision.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { loraFromArgs, loraOptions } from './finetune-sft.ts';

function positive(name: string, value: unknown, integer: boolean): number {
  const n = value as number;
  if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)))) throw new UsageError(`ppo: --${name} must be a positive ${integer ? 'integer' : 'number'}, received ${String(value)}`);
  return n;
}

function nonNegative(name: string, value: unknown, integer: boolean): number {
  const n = value as number;
  if (!(Number.isFinite(n) && n >= 0 && (!integer || Number.isInteger(n)))) throw new UsageError(`ppo: --${name} must be a ${integer ? 'whole number' : 'number'} >= 0, received ${String(value)}`);
  return n;
}

function unit(name: string, value: unknown): number {
  const n = value as number;
  if (!(Number.isFinite(n) && n >= 0 && n <= 1)) throw new UsageError(`ppo: --${name} must be in [0, 1], received ${String(value)}`);
  return n;
}

const D = DEFAULT_PPO_CONFIG;

export const ppoCommand: Command = {
  spec: {
    name: 'ppo',
    summary: 'Optimize an instruction-tuned model against a reward model (RLHF: PPO with a KL penalty)',
    usage: 'llmforge ppo --model <dir> --reward-model <dir> --prompts <json|jsonl> --out <dir> [options]',
    details: [
      'Each iteration samples one response per prompt, scores it with the reward model (which re-reads the text with',
      'its own tokenizer and template), subtracts kl-coef x (log p_policy - log p_start) on every response token, and',
      'takes PPO epochs (clipped policy and value losses, GAE advantages) over mini-batches of the responses.',
      'Logged per iteration: mean reward, KL to the start (nats per response), KL coefficient, policy and value loss,',
      'clip fraction, entropy, response length. Prompts: preference pairs or instruction / chat records (their answers',
      'are ignored). Example:',
      '  llmforge ppo --model runs/assistant/sft --reward-model runs/reward --prompts ../shared/data/llms-from-scratch/instruction-data-with-preference.json --out runs/ppo --template alpaca',
    ].join('\n'),
    options: {
      model: { type: 'string', help: 'Policy to start from: model directory or run directory (also the KL reference)', arg: 'DIR' },
      'reward-model': { type: 'string', help: 'Reward model directory (llmforge reward train --out DIR)', arg: 'DIR' },
      prompts: { type: 'string', help: 'Prompts: preference pairs or instruction / chat records (.json array or .jsonl)', arg: 'FILE' },
      out: { type: 'string', help: 'Output directory (model, checkpoints, metrics.jsonl, samples.jsonl, eval.json)', arg: 'DIR' },
      iterations: { type: 'number', help: 'Rollout batches (sample, score, PPO epochs)', default: D.iterations, arg: 'N' },
      'batch-size': { type: 'number', help: 'Prompts answered per iteration', default: D.batchSize, arg: 'N' },
      'mini-batch-size': { type: 'number', help: 'Responses per PPO update', default: D.miniBatchSize, arg: 'N' },
      'ppo-epochs': { type: 'number', help: 'Passes over each batch of responses', default: D.ppoEpochs, arg: 'N' },
      lr: { type: 'number', help: 'AdamW learning rate (constant)', default: D.lr, arg: 'LR' },
      'kl-coef': { type: 'number', help: 'KL penalty coefficient (the initial one with --target-kl)', default: D.klCoef, arg: 'C' },
      'target-kl': { type: 'number', help: 'Adaptive KL: steer the coefficient toward this KL per response (nats); off by default', arg: 'KL' },
      'kl-horizon': { type: 'number', help: 'Adaptive KL horizon in responses', default: D.klHorizon, arg: 'N' },
      gamma: { type: 'number', help: 'Discount over response tokens', default: D.gamma, arg: 'G' },
      lambda: { type: 'number', help: 'GAE lambda', default: D.lambda, arg: 'L' },
      'clip-range': { type: 'number', help: 'PPO ratio clip range', default: D.clipRange, arg: 'E' },
      'clip-range-value': { type: 'number', help: 'Value clip range around the rollout values', default: D.clipRangeValue, arg: 'E' },
      'vf-coef': { type: 'number', help: 'Weight of the value loss', default: D.vfCoef, arg: 'C' },
      'max-new-tokens': { type: 'number', help: 'Longest response in tokens', default: D.maxNewTokens, arg: 'N' },
      temperature: { type: 'number', help: 'Sampling temperature of the rollouts (> 0)', default: 1, arg: 'T' },
      'top-k': { type: 'number', help: 'Sample from the k most likely tokens only (0: off)', default: 0, arg: 'K' },
      'top-p': { type: 'number', help: 'Nucleus sampling (1: off)', default: 1, arg: 'P' },
      template: { type: 'string', help: 'Prompt template of the policy: alpaca, chatml (default) or model', default: 'chatml', arg: 'NAME' },
      'val-prompts': { type: 'number', help: 'Held-out prompts, answered and scored before and after training', default: 50, arg: 'N' },
      'sample-every': { type: 'number', help: 'Log three sample responses every N iterations (0: never)', default: D.sampleEvery, arg: 'N' },
      'save-every': { type: 'number', help: 'Checkpoint every N iterations (and at the end)', default: D.saveEvery, arg: 'N' },
      train: { type: 'string', help: 'What trains: all (reference: a frozen copy) or lora (reference: adapters off)', default: 'all', arg: 'MODE' },
      ...loraOptions,
      seed: { type: 'number', help: 'Seed of the split, prompt order, sampling, mini-batches and value head', default: D.seed, arg: 'N' },
      precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16 (see finetune --help)', default: 'auto', arg: 'P' },
      resume: { type: 'boolean', help: 'Continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'No progress or sample lines' },
    },
  },
  run(args) {
    const o = args.options;
    if (args.positionals.length > 0) throw new UsageError(`ppo: unexpected argument "${args.positionals[0]}"; pass files with --model, --reward-model, --prompts and --out`);
    if (typeof o.model !== 'string') throw new UsageError('ppo: --model <instruction-tuned model or run dir> is required');
    if (typeof o['reward-model'] !== 'string') throw new UsageError('ppo: --reward-model <dir from llmforge reward train> is required');
    if (typeof o.prompts !== 'string') throw new UsageError('ppo: --prompts <json|jsonl of preference pairs or instruction records> is required');
    if (typeof o.out !== 'string') throw new UsageError('ppo: --out <dir> is required');
    if (o.train !== 'all' && o.train !== 'lora') throw new UsageError(`ppo: --train must be all or lora, received "${String(o.train)}"`);
    const temperature = positive('temperature', o.temperature, false);
    const targetKl = o['target-kl'] === undefined ? null : positive('target-kl', o['target-kl'], false);
    const config: PpoConfig = {
      ...D,
      iterations: positive('iterations', o.iterations, true),
      batchSize: positive('batch-size', o['batch-size'], true),
      miniBatchSize: positive('mini-batch-size', o['mini-batch-size'], true),
      ppoEpochs: positive('ppo-epochs', o['ppo-epochs'], true),
      lr: positive('lr', o.lr, false),
      klCoef: nonNegative('kl-coef', o['kl-coef'], false),
      targetKl,
      klHorizon: positive('kl-horizon', o['kl-horizon'], false),
      gamma: unit('gamma', o.gamma),
      lambda: unit('lambda', o.lambda),
      clipRange: positive('clip-range', o['clip-range'], false),
      clipRangeValue: positive('clip-range-value', o['clip-range-value'], false),
      vfCoef: nonNegative('vf-coef', o['vf-coef'], false),
      maxNewTokens: positive('max-new-tokens', o['max-new-tokens'], true),
      sampling: resolveSampling({ temperature, topK: o['top-k'] as number, topP: o['top-p'] as number }),
      sampleEvery: nonNegative('sample-every', o['sample-every'], true),
      saveEvery: nonNegative('save-every', o['save-every'], true),
      seed: o.seed as number,
    };
    if (targetKl !== null && config.klCoef === 0) throw new UsageError('ppo: --target-kl adapts --kl-coef multiplicatively, so --kl-coef must be > 0 with it');
    const nVal = nonNegative('val-prompts', o['val-prompts'], true);
    const precision = parsePrecisionSetting(o.precision, 'ppo: --precision');
    const loraSettings = o.train === 'lora' ? loraFromArgs(o, 'ppo') : null;
    const all = loadPrompts(o.prompts);
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
    if (config.maxNewTokens >= model.config.blockSize) throw new UsageError(`ppo: --max-new-tokens ${config.maxNewTokens} leaves no room for a prompt in the model's context of ${model.config.blockSize} tokens`);
    const template = resolveTemplate(o.template as string, o.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined) throw new UsageError(`ppo: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which ends every response`);
    const rm = loadRewardModel(o['reward-model'], new Rng(0));
    const scorer = rewardModelScorer(rm);
    const prompts = [...all];
    const rng = new Rng(config.seed);
    for (let i = prompts.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [prompts[i], prompts[j]] = [prompts[j]!, prompts[i]!];
    }
    const valCount = Math.min(nVal, Math.floor(prompts.length / 2));
    const train = prompts.slice(0, prompts.length - valCount);
    const valid = prompts.slice(prompts.length - valCount).map((record) => ({ record, ids: promptIds(tokenizer, template, record, eos, model.config.blockSize, config.maxNewTokens).ids }));
    mkdirSync(o.out, { recursive: true });
    const quiet = o.quiet === true;
    const log = (s: string): void => {
      if (!quiet) process.stderr.write(`${s}\n`);
    };
    let lora: PpoRun['lora'];
    let reference: PpoRun['reference'];
    if (loraSettings) {
      const { targets, summary } = attachLora(model, loraSettings, config.seed + 101);
      lora = { settings: loraSettings, targets, baseModel: o.model };
      log(`lora: r ${loraSettings.r}, alpha ${loraSettings.alpha} on ${summary.modules.length} linears; reference: the same model with adapters off`);
    } else reference = frozenCopy(model);
    const { trainable, total } = trainableParameters(model);
    log(`ppo: ${train.length} train / ${valid.length} held-out prompts, template ${template.name}, reward model ${rm.dir} (template ${rm.template.name}), ${config.batchSize} responses per iteration of up to ${config.maxNewTokens} tokens, ${config.ppoEpochs} PPO epochs of ${config.miniBatchSize}, lr ${config.lr}, kl-coef ${config.klCoef}${targetKl !== null ? ` (adaptive, target ${targetKl})` : ''}`);
    log(`training ${lora ? 'lora' : 'all'}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(precision))}`);
    const rolloutOpts = { sampling: config.sampling, maxNewTokens: config.maxNewTokens, eosId: eos };
    const evalSeed = config.seed + 7;
    const before = valid.length > 0 ? evaluatePrompts(model, tokenizer, valid, scorer, rolloutOpts, evalSeed) : null;
    if (before) log(`held-out before: mean reward ${before.reward.toFixed(3)}, mean length ${before.length.toFixed(1)} tokens`);
    const run: PpoRun = { model, tokenizer, template, eosId: eos, prompts: train, scorer, out: o.out, resume: o.resume === true, precision, ...(lora ? { lora } : { reference: reference! }) };
    const result = trainPpo(run, config, (i) => {
      log(`iter ${i.iteration}/${config.iterations}: reward ${i.reward.toFixed(3)} | kl ${i.kl.toFixed(3)} (coef ${i.klCoef.toPrecision(3)}) | policy ${i.policyLoss.toFixed(4)} | value ${i.valueLoss.toFixed(4)} | clip ${(100 * i.clipFrac).toFixed(1)}% | entropy ${i.entropy.toFixed(2)} | length ${i.responseLength.toFixed(1)}`);
      for (const s of i.samples ?? []) log(`  sample (reward ${s.reward.toFixed(2)}): ${JSON.stringify(s.prompt.slice(0, 60))} -> ${JSON.stringify(s.response.slice(0, 100))}`);
    }, (note) => log(`note: ${note}`));
    const after = valid.length > 0 ? evaluatePrompts(model, tokenizer, valid, scorer, rolloutOpts, evalSeed) : null;
    writeJsonAtomic(join(o.out, 'eval.json'), {
      iterations: config.iterations,
      heldOut: before && after ? { prompts: valid.length, before: { reward: before.reward, length: before.length }, after: { reward: after.reward, length: after.length } } : null,
      first: result.first,
      last: result.last,
    });
    process.stdout.write(
      (before && after ? `held-out prompts (${valid.length}): mean reward ${after.reward.toFixed(3)} after ${config.iterations} iterations (${before.reward.toFixed(3)} at the start), mean length ${after.length.toFixed(1)} tokens (${before.length.toFixed(1)})\n` : '') +
        `wrote ${join(o.out, 'model')}${lora ? `, ${join(o.out, 'adapter')}` : ''}, metrics.jsonl, samples.jsonl, eval.json\n`,
    );
  },
};
