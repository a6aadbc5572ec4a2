/**
 * `llmforge ppo`: RLHF with PPO. The policy (an instruction-tuned model) answers prompts from a file (the prompt part
 * of preference pairs or of instruction / chat records), a reward model trained by `llmforge reward train` scores
 * the answers, and PPO with a per-token KL penalty toward the starting model (a frozen copy, or with --train lora the
 * same model with adapters off) raises the reward. Held-out prompts are answered and scored before and after
 * training. Writes <out>/model (opened by generate and chat; its value head beside it), <out>/adapter for LoRA,
 * metrics.jsonl, samples.jsonl, eval.json and resumable checkpoints (--resume). The command only turns its flags into
 * options for runPpo (src/align/ppo-run.ts), the run the recipe stage `ppo` makes too; the iteration lines go to
 * stderr, the closing summary to stdout.
 */
import { flagCheck } from '../../align/option-checks.ts';
import { DEFAULT_PPO_OPTIONS as D, type PpoOptionsInput } from '../../align/ppo-options.ts';
import { runPpo } from '../../align/ppo-run.ts';
import type { TemplateName } from '../../chat/templates.ts';
import type { PrecisionSetting } from '../../train/precision.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { runInterruptible } from '../interruptible.ts';
import { loraFlags, loraOptions } from './finetune-sft.ts';

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
      model: {
        type: 'string',
        help: 'Policy to start from: model directory or run directory (also the KL reference)',
        arg: 'DIR',
      },
      'reward-model': { type: 'string', help: 'Reward model directory (llmforge reward train --out DIR)', arg: 'DIR' },
      prompts: {
        type: 'string',
        help: 'Prompts: preference pairs or instruction / chat records (.json array or .jsonl)',
        arg: 'FILE',
      },
      out: {
        type: 'string',
        help: 'Output directory (model, checkpoints, metrics.jsonl, samples.jsonl, eval.json)',
        arg: 'DIR',
      },
      iterations: {
        type: 'number',
        help: 'Rollout batches (sample, score, PPO epochs)',
        default: D.iterations,
        arg: 'N',
      },
      'batch-size': { type: 'number', help: 'Prompts answered per iteration', default: D.batchSize, arg: 'N' },
      'mini-batch-size': { type: 'number', help: 'Responses per PPO update', default: D.miniBatchSize, arg: 'N' },
      'ppo-epochs': { type: 'number', help: 'Passes over each batch of responses', default: D.ppoEpochs, arg: 'N' },
      lr: { type: 'number', help: 'AdamW learning rate (constant)', default: D.lr, arg: 'LR' },
      'kl-coef': {
        type: 'number',
        help: 'KL penalty coefficient (the initial one with --target-kl)',
        default: D.klCoef,
        arg: 'C',
      },
      'target-kl': {
        type: 'number',
        help: 'Adaptive KL: steer the coefficient toward this KL per response (nats); off by default',
        arg: 'KL',
      },
      'kl-horizon': { type: 'number', help: 'Adaptive KL horizon in responses', default: D.klHorizon, arg: 'N' },
      gamma: { type: 'number', help: 'Discount over response tokens', default: D.gamma, arg: 'G' },
      lambda: { type: 'number', help: 'GAE lambda', default: D.lambda, arg: 'L' },
      'clip-range': { type: 'number', help: 'PPO ratio clip range', default: D.clipRange, arg: 'E' },
      'clip-range-value': {
        type: 'number',
        help: 'Value clip range around the rollout values',
        default: D.clipRangeValue,
        arg: 'E',
      },
      'vf-coef': { type: 'number', help: 'Weight of the value loss', default: D.vfCoef, arg: 'C' },
      'max-new-tokens': { type: 'number', help: 'Longest response in tokens', default: D.maxNewTokens, arg: 'N' },
      temperature: {
        type: 'number',
        help: 'Sampling temperature of the rollouts (> 0)',
        default: D.temperature,
        arg: 'T',
      },
      'top-k': {
        type: 'number',
        help: 'Sample from the k most likely tokens only (0: off)',
        default: D.topK,
        arg: 'K',
      },
      'top-p': { type: 'number', help: 'Nucleus sampling (1: off)', default: D.topP, arg: 'P' },
      template: {
        type: 'string',
        help: 'Prompt template of the policy: alpaca, chatml (default) or model',
        default: D.template,
        arg: 'NAME',
      },
      'val-prompts': {
        type: 'number',
        help: 'Held-out prompts, answered and scored before and after training',
        default: D.valPrompts,
        arg: 'N',
      },
      'sample-every': {
        type: 'number',
        help: 'Log three sample responses every N iterations (0: never)',
        default: D.sampleEvery,
        arg: 'N',
      },
      'save-every': {
        type: 'number',
        help: 'Checkpoint every N iterations (and at the end)',
        default: D.saveEvery,
        arg: 'N',
      },
      train: {
        type: 'string',
        help: 'What trains: all (reference: a frozen copy) or lora (reference: adapters off)',
        default: D.train,
        arg: 'MODE',
      },
      ...loraOptions,
      seed: {
        type: 'number',
        help: 'Seed of the split, prompt order, sampling, mini-batches and value head',
        default: D.seed,
        arg: 'N',
      },
      precision: {
        type: 'string',
        help: 'GEMM precision: auto, fp32 or bf16 (see finetune --help)',
        default: D.precision,
        arg: 'P',
      },
      resume: { type: 'boolean', help: 'Continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'No progress or sample lines' },
    },
  },
  async run(args) {
    const o = args.options;
    if (args.positionals.length > 0)
      throw new UsageError(
        `ppo: unexpected argument "${args.positionals[0]}"; pass files with --model, --reward-model, --prompts and --out`,
      );
    if (typeof o.model !== 'string')
      throw new UsageError('ppo: --model <instruction-tuned model or run dir> is required');
    if (typeof o['reward-model'] !== 'string')
      throw new UsageError('ppo: --reward-model <dir from llmforge reward train> is required');
    if (typeof o.prompts !== 'string')
      throw new UsageError('ppo: --prompts <json|jsonl of preference pairs or instruction records> is required');
    if (typeof o.out !== 'string') throw new UsageError('ppo: --out <dir> is required');
    const quiet = o.quiet === true;
    const options: PpoOptionsInput = {
      model: o.model,
      rewardModel: o['reward-model'],
      prompts: o.prompts,
      out: o.out,
      train: o.train as 'all' | 'lora',
      ...loraFlags(o),
      iterations: o.iterations as number,
      batchSize: o['batch-size'] as number,
      miniBatchSize: o['mini-batch-size'] as number,
      ppoEpochs: o['ppo-epochs'] as number,
      lr: o.lr as number,
      klCoef: o['kl-coef'] as number,
      targetKl: o['target-kl'] as number | undefined,
      klHorizon: o['kl-horizon'] as number,
      gamma: o.gamma as number,
      lambda: o.lambda as number,
      clipRange: o['clip-range'] as number,
      clipRangeValue: o['clip-range-value'] as number,
      vfCoef: o['vf-coef'] as number,
      maxNewTokens: o['max-new-tokens'] as number,
      temperature: o.temperature as number,
      topK: o['top-k'] as number,
      topP: o['top-p'] as number,
      template: o.template as TemplateName,
      valPrompts: o['val-prompts'] as number,
      sampleEvery: o['sample-every'] as number,
      saveEvery: o['save-every'] as number,
      seed: o.seed as number,
      precision: o.precision as PrecisionSetting,
      resume: o.resume === true,
    };
    await runInterruptible(o.out, (signal) =>
      runPpo(options, {
        log: (line) => {
          if (!quiet) process.stderr.write(`${line}\n`);
        },
        report: (line) => process.stdout.write(`${line}\n`),
        quiet,
        check: flagCheck('ppo'),
        signal,
      }),
    );
  },
};
