/**
 * `llmforge finetune sft`: instruction fine-tuning from the command line. Loads Alpaca or chat records and a
 * pretrained model, renders them with a template (--template alpaca|chatml|model), and either prints one
 * tokenized example with its masked positions (--preview, no training) or trains, then scores greedy responses to
 * the held-out records (exact match, ROUGE-L) and writes <out>/model, metrics.jsonl, responses.jsonl, eval.json;
 * --resume continues from <out>/checkpoints/latest; Ctrl-C saves a checkpoint and exits 130. `--train lora` trains LoRA adapters only (--lora-* options)
 * and adds <out>/adapter (PEFT layout); <out>/model is then the merged model.
 */
import { join } from 'node:path';
import { loadSftRecords } from '../../chat/records.ts';
import { resolveTemplate } from '../../chat/templates.ts';
import { formatPreview } from '../../finetune/sft-tokenize.ts';
import { DEFAULT_LORA } from '../../finetune/lora-finetune.ts';
import type { LoraOptions } from '../../finetune/lora-options.ts';
import { DEFAULT_SFT_OPTIONS, runSft as runSftJob, type SftOptions } from '../../finetune/sft-run.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { flagName, OptionCheck } from '../../train/option-check.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { UsageError, type OptionSpec, type Parsed } from '../args.ts';
import { runInterruptible } from '../interruptible.ts';

/** Options only `sft` reads; it also reads model, data, out, train, lora-*, lr, batch-size, seed, val-frac, resume and quiet. */
export const sftOptions: Record<string, OptionSpec> = {
  template: {
    type: 'string',
    help: `sft: prompt template: alpaca, chatml or model (the chat_template in tokenizer_config.json) (default: ${DEFAULT_SFT_OPTIONS.template})`,
    arg: 'NAME',
  },
  preview: {
    type: 'boolean',
    help: 'sft: print the first record rendered and tokenized, masked positions marked, then stop',
  },
  steps: {
    type: 'number',
    help: `sft and domain: optimizer updates (default: sft ${DEFAULT_SFT_OPTIONS.steps}, domain 300)`,
    arg: 'N',
  },
  'train-on-prompt': { type: 'boolean', help: 'sft: learn every token (masking off); default: response tokens only' },
  pack: { type: 'boolean', help: 'sft: pack several examples per row (segment-masked attention) instead of padding' },
  'eval-every': {
    type: 'number',
    help: `sft and domain: validation loss every N updates (0: at the end only) (default: sft ${DEFAULT_SFT_OPTIONS.evalEvery}, domain 100)`,
    arg: 'N',
  },
  'eval-responses': {
    type: 'number',
    help: `sft: held-out records answered and scored after training (default: ${DEFAULT_SFT_OPTIONS.evalResponses})`,
    arg: 'N',
  },
  'max-new-tokens': {
    type: 'number',
    help: `sft: longest generated response (default: ${DEFAULT_SFT_OPTIONS.maxNewTokens})`,
    arg: 'N',
  },
  'min-lr': { type: 'number', help: 'sft and domain: floor of the cosine decay (default: lr / 10)', arg: 'LR' },
};

/** LoRA options that classify and sft both read with --train lora (here, as finetune.ts imports this file). */
export const loraOptions: Record<string, OptionSpec> = {
  'lora-r': { type: 'number', help: 'lora: rank of the adapters', default: DEFAULT_LORA.r, arg: 'N' },
  'lora-alpha': {
    type: 'number',
    help: 'lora: scale numerator (updates times alpha / r)',
    default: DEFAULT_LORA.alpha,
    arg: 'A',
  },
  'lora-dropout': {
    type: 'number',
    help: 'lora: dropout on the adapter input while training',
    default: DEFAULT_LORA.dropout,
    arg: 'P',
  },
  'lora-targets': {
    type: 'string',
    help: 'lora: comma-separated linears to adapt (default: every attention and MLP linear, c_attn,c_proj,c_fc or q_proj,...,down_proj)',
    arg: 'LIST',
  },
};

/** The --lora-* flags as the LoRA fields of the run options (the list split on commas). */
export function loraFlags(o: Parsed['options']): LoraOptions {
  const t = o['lora-targets'];
  return given({
    loraR: o['lora-r'],
    loraAlpha: o['lora-alpha'],
    loraDropout: o['lora-dropout'],
    loraTargets: typeof t === 'string' ? t.split(',').map((x) => x.trim()) : undefined,
  }) as LoraOptions;
}

/** The entries whose value was given (flags left out stay out, so the run's defaults apply). */
export function given(values: Record<string, unknown>): Record<string, never> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, never>;
}

/** How option errors of `finetune sft` name its flags. */
const CHECK = new OptionCheck(
  'finetune sft',
  (f) => ({ mode: '--train', trainOnPrompt: '--train-on-prompt', evalEvery: '--eval-every' })[f] ?? flagName(f),
);

/** `--preview`: the first record rendered and tokenized, each position marked learned or masked; nothing trains. */
function preview(o: Parsed['options']): void {
  const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model as string);
  const name = (o.template as string | undefined) ?? DEFAULT_SFT_OPTIONS.template;
  const template = resolveTemplate(name, name === 'model' ? tokenizerDir : modelDir);
  const eos = eosId(tokenizer);
  if (eos === undefined)
    throw new UsageError(
      `finetune sft: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which SFT appends to every response`,
    );
  const record = loadSftRecords(o.data as string)[0]!;
  process.stdout.write(
    `${formatPreview(tokenizer, template, record, { eosId: eos, maskPrompt: o['train-on-prompt'] !== true, maxLen: model.config.blockSize })}\n`,
  );
}

/** Flags as runSft's options; every default is DEFAULT_SFT_OPTIONS'. */
export async function runSft(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.data !== 'string')
    throw new UsageError('finetune sft: --data <json|jsonl of Alpaca or chat records> is required');
  if (typeof o.model !== 'string')
    throw new UsageError('finetune sft: --model <pretrained model or run dir> is required');
  if (o.preview === true) return preview(o);
  if (typeof o.out !== 'string') throw new UsageError('finetune sft: --out <dir> is required (or pass --preview)');
  const quiet = o.quiet === true;
  const opts: SftOptions = {
    base: o.model,
    data: o.data,
    out: o.out,
    resume: o.resume === true,
    quiet,
    pack: o.pack === true,
    trainOnPrompt: o['train-on-prompt'] === true,
    log: (line) => void (quiet ? undefined : process.stderr.write(`${line}\n`)),
    ...given({
      template: o.template,
      mode: o.train,
      steps: o.steps,
      batchSize: o['batch-size'],
      lr: o.lr,
      minLr: o['min-lr'],
      warmup: o.warmup,
      evalEvery: o['eval-every'],
      valFrac: o['val-frac'],
      evalResponses: o['eval-responses'],
      maxNewTokens: o['max-new-tokens'],
      seed: o.seed,
      precision: o.precision,
      ...loraFlags(o),
    }),
  };
  const r = await runInterruptible(o.out, (signal) => runSftJob({ ...opts, signal }, CHECK));
  const lora = r.resolved.lora !== null;
  process.stdout.write(
    `train loss ${r.finalLoss.toFixed(4)}, val loss ${r.valLoss.toFixed(4)}; ${r.heldOut.length} held-out responses: exact match ${(100 * r.scores.exactMatch).toFixed(1)}%, ROUGE-L ${r.scores.rougeL.toFixed(3)}\n` +
      `wrote ${join(o.out, 'model')}${lora ? `, ${join(o.out, 'adapter')}` : ''}, metrics.jsonl, responses.jsonl, eval.json\n`,
  );
}
