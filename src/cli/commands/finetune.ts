/**
 * `llmforge finetune <classify|sft>`: fine-tunes a pretrained model. `classify` trains an N-class classifier on
 * labelled texts (TSV `label<TAB>text`, CSV or JSONL) and writes checkpoints, metrics.jsonl and a test report
 * to --out; `sft` (finetune-sft.ts) tunes an instruction follower. Both train all weights or LoRA adapters
 * (`--train lora`, with the shared --lora-* options); other kinds join as further subcommands of the switch.
 */
import { DEFAULT_CLASSIFY_OPTIONS as C, runClassification } from '../../finetune/classify-run.ts';
import { DEFAULT_DOMAIN_OPTIONS as D } from '../../finetune/domain-run.ts';
import { DEFAULT_SFT_OPTIONS as S } from '../../finetune/sft-run.ts';
import { flagName, OptionCheck } from '../../train/option-check.ts';
import { UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';
import { runInterruptible } from '../interruptible.ts';
import { domainOptions, runDomain } from './finetune-domain.ts';
import { given, loraFlags, loraOptions, runSft, sftOptions } from './finetune-sft.ts';

/** How option errors of `finetune classify` name its flags. */
const CHECK = new OptionCheck('finetune classify', (f) => (f === 'mode' ? '--train' : flagName(f)));

/** Flags as runClassification's options; every default is DEFAULT_CLASSIFY_OPTIONS'. */
async function classify(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.data !== 'string') throw new UsageError('finetune classify: --data <tsv|csv|jsonl> is required');
  if (typeof o.model !== 'string')
    throw new UsageError('finetune classify: --model <pretrained model or run dir> is required');
  if (typeof o.out !== 'string') throw new UsageError('finetune classify: --out <dir> is required');
  const [data, base, out] = [o.data, o.model, o.out];
  await runInterruptible(out, (signal) =>
    runClassification(
      {
        data,
        base,
        out,
        resume: o.resume === true,
        quiet: o.quiet === true,
        ...given({
          mode: o.train,
          lastK: o['last-k'],
          pooling: o.pooling,
          maxLength: o['max-length'],
          balance: o.balance,
          valFrac: o['val-frac'],
          testFrac: o['test-frac'],
          epochs: o.epochs,
          batchSize: o['batch-size'],
          lr: o.lr,
          weightDecay: o['weight-decay'],
          seed: o.seed,
          precision: o.precision,
          ...loraFlags(o),
        }),
        signal,
      },
      CHECK,
    ),
  );
}

/** Defaults of the three jobs for a shared flag's help: "(classify 5e-4, sft 1e-4, domain 5e-4)". */
function defaults(c: unknown, s: unknown, d: unknown): string {
  return `(default: classify ${String(c)}, sft ${String(s)}, domain ${String(d)})`;
}

export const finetuneCommand: Command = {
  spec: {
    name: 'finetune',
    summary:
      'Fine-tune a pretrained model (classify: an N-class text classifier; sft: instruction tuning; domain: continued pretraining on your text)',
    usage:
      'llmforge finetune classify --model <dir> --data <tsv|csv|jsonl> --out <dir> [options]\n       llmforge finetune sft --model <dir> --data <json|jsonl> (--preview | --out <dir>) [options]\n       llmforge finetune domain --model <dir> --data <text files> [--general <file>|toy-world] --out <dir> [options]',
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
      train: {
        type: 'string',
        help: `What trains. classify: all, last-k (last k blocks + final norm + head), head, lora (adapters + head); sft: all or lora (default: ${C.mode})`,
        arg: 'MODE',
      },
      'last-k': { type: 'number', help: `Blocks trained with --train last-k (default: ${C.lastK})`, arg: 'K' },
      pooling: {
        type: 'string',
        help: `Head input: last (last real token) or mean (mean of real tokens) (default: ${C.pooling})`,
        arg: 'NAME',
      },
      'max-length': {
        type: 'number',
        help: `Truncate texts to this many tokens (at most the context length) (default: ${C.maxLength})`,
        arg: 'N',
      },
      balance: {
        type: 'string',
        help: `Class balancing: none, undersample, oversample, weights (default: ${C.balance})`,
        arg: 'MODE',
      },
      'val-frac': {
        type: 'number',
        help: `Validation share (classify: of each class) ${defaults(C.valFrac, S.valFrac, D.valFrac)}`,
        arg: 'F',
      },
      'test-frac': { type: 'number', help: `Test share of each class (default: ${C.testFrac})`, arg: 'F' },
      epochs: { type: 'number', help: `Passes over the training split (default: ${C.epochs})`, arg: 'N' },
      'batch-size': {
        type: 'number',
        help: `Examples per step ${defaults(C.batchSize, S.batchSize, D.batchSize)}`,
        arg: 'N',
      },
      lr: { type: 'number', help: `AdamW (peak) learning rate ${defaults(C.lr, S.lr, D.lr)}`, arg: 'LR' },
      'weight-decay': { type: 'number', help: `AdamW weight decay (default: ${C.weightDecay})`, arg: 'W' },
      seed: {
        type: 'number',
        help: `Seed of the split, balancing, batch order, init and dropout ${defaults(C.seed, S.seed, D.seed)}`,
        arg: 'N',
      },
      resume: { type: 'boolean', help: 'Continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'No progress line' },
      precision: {
        type: 'string',
        help: `GEMM precision: auto (bf16 on CPUs with AMX-BF16/AVX512_BF16, else fp32; LLMFORGE_MATMUL decides first when set), fp32, or bf16 (bf16 operands, fp32 accumulation, fp32 weights/grads/optimizer) (default: ${C.precision})`,
        arg: 'P',
      },
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
        throw new UsageError(
          `finetune: expected a subcommand (classify, sft or domain), received ${sub === undefined ? 'none' : `"${sub}"`}`,
        );
    }
  },
};
