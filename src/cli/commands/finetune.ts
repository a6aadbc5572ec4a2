/**
 * `llmforge finetune <classify|sft>`: fine-tunes a pretrained model. `classify` trains an N-class classifier on
 * labelled texts (TSV `label<TAB>text`, CSV or JSONL) and writes checkpoints, metrics.jsonl and a test report
 * to --out; `sft` (finetune-sft.ts) tunes an instruction follower. Both train all weights or LoRA adapters
 * (`--train lora`, with the shared --lora-* options); other kinds join as further subcommands of the switch.
 */
import { trainClassifier, type TrainMode } from '../../finetune/classify-train.ts';
import type { Balance } from '../../finetune/classify-data.ts';
import type { Pooling } from '../../finetune/classifier.ts';
import { parsePrecisionSetting } from '../../train/precision.ts';
import { UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';
import { domainOptions, runDomain } from './finetune-domain.ts';
import { loraFromArgs, loraOptions, runSft, sftOptions } from './finetune-sft.ts';

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new UsageError(`finetune classify: --${name} must be one of ${allowed.join(', ')}, received "${String(value)}"`);
  return value as T;
}

function positive(name: string, value: unknown, integer = true): number {
  const n = value as number;
  if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)))) throw new UsageError(`finetune classify: --${name} must be a positive ${integer ? 'integer' : 'number'}, received ${String(value)}`);
  return n;
}

async function classify(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.data !== 'string') throw new UsageError('finetune classify: --data <tsv|csv|jsonl> is required');
  if (typeof o.model !== 'string') throw new UsageError('finetune classify: --model <pretrained model or run dir> is required');
  if (typeof o.out !== 'string') throw new UsageError('finetune classify: --out <dir> is required');
  const fracs = [o['val-frac'], o['test-frac']] as number[];
  if (!fracs.every((f) => f >= 0 && f < 1) || fracs[0]! + fracs[1]! >= 1) throw new UsageError(`finetune classify: --val-frac and --test-frac must be in [0, 1) and sum below 1, received ${fracs.join(' and ')}`);
  const mode = oneOf('train', o.train, ['all', 'last-k', 'head', 'lora'] as const satisfies readonly TrainMode[]);
  await trainClassifier({
    data: o.data,
    base: o.model,
    out: o.out,
    mode,
    ...(mode === 'lora' ? { lora: loraFromArgs(o, 'finetune classify') } : {}),
    lastK: positive('last-k', o['last-k']),
    pooling: oneOf('pooling', o.pooling, ['last', 'mean'] as const satisfies readonly Pooling[]),
    maxLength: positive('max-length', o['max-length']),
    balance: oneOf('balance', o.balance, ['none', 'undersample', 'oversample', 'weights'] as const satisfies readonly Balance[]),
    valFrac: fracs[0]!,
    testFrac: fracs[1]!,
    epochs: positive('epochs', o.epochs),
    batchSize: positive('batch-size', o['batch-size']),
    lr: positive('lr', o.lr, false),
    weightDecay: o['weight-decay'] as number,
    seed: o.seed as number,
    resume: o.resume === true,
    quiet: o.quiet === true,
    precision: parsePrecisionSetting(o.precision, 'finetune classify: --precision'),
  });
}

export const finetuneCommand: Command = {
  spec: {
    name: 'finetune',
    summary: 'Fine-tune a pretrained model (classify: an N-class text classifier; sft: instruction tuning; domain: continued pretraining on your text)',
    usage: 'llmforge finetune classify --model <dir> --data <tsv|csv|jsonl> --out <dir> [options]\n       llmforge finetune sft --model <dir> --data <json|jsonl> (--preview | --out <dir>) [options]\n       llmforge finetune domain --model <dir> --data <text files> [--general <file>|toy-world] --out <dir> [options]',
    details: [
      'Data: TSV `label<TAB>text` (split on the first tab, as the SMS Spam collection), CSV with `text` and `label`',
      'columns, or JSONL {"text":..,"label":..}. The split is stratified; checkpoints go to <out>/checkpoints/{latest,best},',
      'metrics to <out>/metrics.jsonl. Use the result with `llmforge classify --model <out> "text"`.',
      'LoRA (--train lora, classify and sft): only low-rank adapters train (classify: + the new head); the run writes the',
      'adapter alone in PEFT layout to <out>/adapter (adapter_config.json, adapter_model.safetensors) and a merged model',
      'that loads as usual (classify: <out>/checkpoints/best; sft: <out>/model); --resume re-reads the base from --model.',
      'Example: llmforge finetune classify --model runs/demo/pretrain --data ../shared/data/sms-spam/SMSSpamCollection --out runs/spam',
      'Example: llmforge finetune classify --train lora --lora-r 8 --model runs/demo/pretrain --data ../shared/data/sms-spam/SMSSpamCollection --out runs/spam-lora',
      'Example: llmforge finetune domain --model runs/demo/pretrain --data ../shared/data/tinyshakespeare/input.txt --general toy-world --out runs/shakespeare-adapted --steps 400 --lr 3e-4',
    ].join('\n'),
    options: {
      model: { type: 'string', help: 'Pretrained base: model directory or training run directory', arg: 'DIR' },
      data: { type: 'string', help: 'Labelled texts (.tsv/.txt TSV, .csv, .jsonl)', arg: 'FILE' },
      out: { type: 'string', help: 'Output directory (checkpoints, metrics.jsonl)', arg: 'DIR' },
      train: { type: 'string', help: 'What trains. classify: all, last-k (last k blocks + final norm + head), head, lora (adapters + head); sft: all or lora', default: 'all', arg: 'MODE' },
      'last-k': { type: 'number', help: 'Blocks trained with --train last-k', default: 1, arg: 'K' },
      pooling: { type: 'string', help: 'Head input: last (last real token) or mean (mean of real tokens)', default: 'last', arg: 'NAME' },
      'max-length': { type: 'number', help: 'Truncate texts to this many tokens (at most the context length)', default: 64, arg: 'N' },
      balance: { type: 'string', help: 'Class balancing: none, undersample, oversample, weights', default: 'none', arg: 'MODE' },
      'val-frac': { type: 'number', help: 'Validation share of each class', default: 0.1, arg: 'F' },
      'test-frac': { type: 'number', help: 'Test share of each class', default: 0.2, arg: 'F' },
      epochs: { type: 'number', help: 'Passes over the training split', default: 3, arg: 'N' },
      'batch-size': { type: 'number', help: 'Examples per step', default: 16, arg: 'N' },
      lr: { type: 'number', help: 'AdamW learning rate', default: 5e-4, arg: 'LR' },
      'weight-decay': { type: 'number', help: 'AdamW weight decay', default: 0.01, arg: 'W' },
      seed: { type: 'number', help: 'Seed of the split, balancing, batch order and head init', default: 1337, arg: 'N' },
      resume: { type: 'boolean', help: 'Continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'No progress line' },
      precision: { type: 'string', help: 'GEMM precision: auto (bf16 on CPUs with AMX-BF16/AVX512_BF16, else fp32; LLMFORGE_MATMUL decides first when set), fp32, or bf16 (bf16 operands, fp32 accumulation, fp32 weights/grads/optimizer)', default: 'auto', arg: 'P' },
      ...loraOptions,
      ...sftOptions,
      ...domainOptions,
    },
  },
  async run(args) {
    const sub = args.positionals[0];
    switch (sub) {
      case 'classify':
        return classify(args);
      case 'sft':
        return runSft(args);
      case 'domain':
        return runDomain(args);
      default:
        throw new UsageError(`finetune: expected a subcommand (classify, sft or domain), received ${sub === undefined ? 'none' : `"${sub}"`}`);
    }
  },
};
