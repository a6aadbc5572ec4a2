/**
 * `llmforge dpo`: direct preference optimization of an instruction-tuned model on preference pairs (Alpaca style,
 * text or chat prompts; src/finetune/preference-data.ts). Splits off held-out pairs, trains all weights against a
 * frozen copy of the start or LoRA adapters against the same model with adapters off (--train lora), prints loss,
 * implicit rewards, reward accuracy and margin on training and held-out pairs at each evaluation, and writes
 * <out>/model (opened by generate and chat), <out>/adapter for LoRA, metrics.jsonl, eval.json and resumable
 * checkpoints (--resume). The command only turns its flags into options for runDpo (src/align/dpo-run.ts), the
 * run the recipe stage `dpo` makes too; the evaluation lines go to stderr, the closing summary to stdout.
 */
import { DEFAULT_DPO_OPTIONS as D } from '../../align/dpo-options.ts';
import { runDpo } from '../../align/dpo-run.ts';
import type { DpoOptionsInput } from '../../align/dpo-options.ts';
import { flagCheck } from '../../align/option-checks.ts';
import type { DpoLossType } from '../../align/dpo-loss.ts';
import type { TemplateName } from '../../chat/templates.ts';
import type { PrecisionSetting } from '../../train/precision.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { runInterruptible } from '../interruptible.ts';
import { loraFlags, loraOptions } from './finetune-sft.ts';

export const dpoCommand: Command = {
  spec: {
    name: 'dpo',
    summary: 'Align an instruction-tuned model to preference pairs (direct preference optimization)',
    usage: 'llmforge dpo --model <dir> --data <json|jsonl> --out <dir> [options]',
    details: [
      'Data: preference records {instruction, input, chosen, rejected} (Alpaca), {prompt, chosen, rejected} (text or chat',
      'messages) or two whole conversations. The loss compares, per pair, how much more the policy than the reference',
      'prefers the chosen response: sigmoid (DPO), with --label-smoothing (conservative DPO), or ipo. Logged: loss,',
      'rewards (beta x log-ratio to the reference) of chosen and rejected, reward accuracy (chosen > rejected), margin.',
      'Example: llmforge dpo --model runs/assistant/sft --data ../shared/data/llms-from-scratch/instruction-data-with-preference.json --out runs/dpo --template alpaca',
    ].join('\n'),
    options: {
      model: {
        type: 'string',
        help: 'Instruction-tuned model: model directory or run directory (the reference starts equal to it)',
        arg: 'DIR',
      },
      data: { type: 'string', help: 'Preference pairs (.json array or .jsonl)', arg: 'FILE' },
      out: { type: 'string', help: 'Output directory (model, checkpoints, metrics.jsonl, eval.json)', arg: 'DIR' },
      beta: {
        type: 'number',
        help: 'KL strength: smaller lets the policy move further from the reference',
        default: D.beta,
        arg: 'B',
      },
      loss: { type: 'string', help: 'sigmoid (DPO) or ipo', default: D.loss, arg: 'NAME' },
      'label-smoothing': {
        type: 'number',
        help: 'Conservative DPO: assumed share of flipped labels, in [0, 0.5) (sigmoid only)',
        default: D.labelSmoothing,
        arg: 'E',
      },
      steps: { type: 'number', help: 'Optimizer updates', default: D.steps, arg: 'N' },
      'batch-size': { type: 'number', help: 'Preference pairs per update', default: D.batchSize, arg: 'N' },
      lr: {
        type: 'number',
        help: 'AdamW peak learning rate (warmup, cosine decay to a tenth); 5e-5 suits our 1-10M-parameter models, 5e-6 is usual for 7B',
        default: D.lr,
        arg: 'LR',
      },
      template: {
        type: 'string',
        help: 'Prompt template: alpaca, chatml (default) or model; use the one the model was tuned with',
        default: D.template,
        arg: 'NAME',
      },
      'max-length': {
        type: 'number',
        help: 'Longest prompt + response in tokens (default: the context + 1); the prompt is cut first',
        arg: 'N',
      },
      'val-frac': {
        type: 'number',
        help: 'Held-out share of the pairs (those a reward run with the same --val-frac and --seed holds out)',
        default: D.valFrac,
        arg: 'F',
      },
      'eval-every': {
        type: 'number',
        help: 'Evaluate (train slice and held-out) every N updates (0: at the end only)',
        default: D.evalEvery,
        arg: 'N',
      },
      train: {
        type: 'string',
        help: 'What trains: all (reference: a frozen copy) or lora (reference: adapters off)',
        default: D.train,
        arg: 'MODE',
      },
      ...loraOptions,
      seed: { type: 'number', help: 'Seed of the split, batch order, adapters and dropout', default: D.seed, arg: 'N' },
      precision: {
        type: 'string',
        help: 'GEMM precision: auto, fp32 or bf16 (see finetune --help)',
        default: D.precision,
        arg: 'P',
      },
      resume: { type: 'boolean', help: 'Continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'No progress or evaluation lines' },
    },
  },
  async run(args) {
    const o = args.options;
    if (args.positionals.length > 0)
      throw new UsageError(
        `dpo: unexpected argument "${args.positionals[0]}"; pass files with --model, --data and --out`,
      );
    if (typeof o.model !== 'string')
      throw new UsageError('dpo: --model <instruction-tuned model or run dir> is required');
    if (typeof o.data !== 'string') throw new UsageError('dpo: --data <json|jsonl of preference pairs> is required');
    if (typeof o.out !== 'string') throw new UsageError('dpo: --out <dir> is required');
    const quiet = o.quiet === true;
    const options: DpoOptionsInput = {
      model: o.model,
      data: o.data,
      out: o.out,
      train: o.train as 'all' | 'lora',
      ...loraFlags(o),
      beta: o.beta as number,
      loss: o.loss as DpoLossType,
      labelSmoothing: o['label-smoothing'] as number,
      steps: o.steps as number,
      batchSize: o['batch-size'] as number,
      lr: o.lr as number,
      template: o.template as TemplateName,
      maxLength: o['max-length'] as number | undefined,
      valFrac: o['val-frac'] as number,
      evalEvery: o['eval-every'] as number,
      seed: o.seed as number,
      precision: o.precision as PrecisionSetting,
      resume: o.resume === true,
    };
    await runInterruptible(o.out, (signal) =>
      runDpo(options, {
        log: (line) => {
          if (!quiet) process.stderr.write(`${line}\n`);
        },
        report: (line) => process.stdout.write(`${line}\n`),
        quiet,
        check: flagCheck('dpo'),
        signal,
      }),
    );
  },
};
