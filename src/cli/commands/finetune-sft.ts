/**
 * `llmforge finetune sft`: instruction fine-tuning from the command line. Loads Alpaca or chat records and a
 * pretrained model, renders them with a template (--template alpaca|chatml|model), and either prints one
 * tokenized example with its masked positions (--preview, no training) or trains, then scores greedy responses to
 * the held-out records (exact match, ROUGE-L) and writes <out>/model, metrics.jsonl, responses.jsonl, eval.json;
 * --resume continues from <out>/checkpoints/latest. `--train lora` trains LoRA adapters only (--lora-* options)
 * and adds <out>/adapter (PEFT layout); <out>/model is then the merged model.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { respondAndScore } from '../../finetune/sft-eval.ts';
import { loadSftRecords, type SftRecord } from '../../chat/records.ts';
import { formatPreview } from '../../finetune/sft-tokenize.ts';
import { attachLora, DEFAULT_LORA, formatTrainable, parseLoraSettings } from '../../finetune/lora-finetune.ts';
import { DEFAULT_SFT_CONFIG, trainSft, type SftConfig, type SftRun } from '../../finetune/sft-train.ts';
import { describePrecision, parsePrecisionSetting, resolvePrecision } from '../../train/precision.ts';
import { resolveTemplate } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { mergeLora, trainableParameters } from '../../nn/lora.ts';
import { Rng } from '../../tensor/random.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { Progress } from '../../util/progress.ts';
import { UsageError, type OptionSpec, type Parsed } from '../args.ts';

/** Options only `sft` reads; it also reads model, data, out, train, lora-*, lr, batch-size, seed, val-frac, resume and quiet. */
export const sftOptions: Record<string, OptionSpec> = {
  template: { type: 'string', help: 'sft: prompt template: alpaca, chatml (default) or model (the chat_template in tokenizer_config.json)', default: 'chatml', arg: 'NAME' },
  preview: { type: 'boolean', help: 'sft: print the first record rendered and tokenized, masked positions marked, then stop' },
  steps: { type: 'number', help: 'sft: optimizer updates', default: DEFAULT_SFT_CONFIG.steps, arg: 'N' },
  'train-on-prompt': { type: 'boolean', help: 'sft: learn every token (masking off); default: response tokens only' },
  pack: { type: 'boolean', help: 'sft: pack several examples per row (segment-masked attention) instead of padding' },
  'eval-every': { type: 'number', help: 'sft: validation loss every N updates (0: at the end only)', default: DEFAULT_SFT_CONFIG.evalEvery, arg: 'N' },
  'eval-responses': { type: 'number', help: 'sft: held-out records answered and scored after training', default: 20, arg: 'N' },
  'max-new-tokens': { type: 'number', help: 'sft: longest generated response', default: 128, arg: 'N' },
};

/** LoRA options that classify and sft both read with --train lora (here, as finetune.ts imports this file). */
export const loraOptions: Record<string, OptionSpec> = {
  'lora-r': { type: 'number', help: 'lora: rank of the adapters', default: DEFAULT_LORA.r, arg: 'N' },
  'lora-alpha': { type: 'number', help: 'lora: scale numerator (updates times alpha / r)', default: DEFAULT_LORA.alpha, arg: 'A' },
  'lora-dropout': { type: 'number', help: 'lora: dropout on the adapter input while training', default: DEFAULT_LORA.dropout, arg: 'P' },
  'lora-targets': { type: 'string', help: 'lora: comma-separated linears to adapt (default: every attention and MLP linear, c_attn,c_proj,c_fc or q_proj,...,down_proj)', arg: 'LIST' },
};

/** The LoRA settings from --lora-* (errors name `where`). */
export function loraFromArgs(o: Parsed['options'], where: string) {
  return parseLoraSettings({ r: o['lora-r'], alpha: o['lora-alpha'], dropout: o['lora-dropout'], targets: o['lora-targets'] }, where);
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rng = new Rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export async function runSft(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.data !== 'string') throw new UsageError('finetune sft: --data <json|jsonl of Alpaca or chat records> is required');
  if (typeof o.model !== 'string') throw new UsageError('finetune sft: --model <pretrained model or run dir> is required');
  const records = loadSftRecords(o.data);
  const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
  const template = resolveTemplate(o.template as string, o.template === 'model' ? tokenizerDir : modelDir);
  const eos = eosId(tokenizer);
  if (eos === undefined) throw new UsageError(`finetune sft: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which SFT appends to every response`);
  const maskPrompt = o['train-on-prompt'] !== true;
  const maxLen = model.config.blockSize;
  if (o.preview === true) {
    process.stdout.write(`${formatPreview(tokenizer, template, records[0]!, { eosId: eos, maskPrompt, maxLen })}\n`);
    return;
  }
  if (typeof o.out !== 'string') throw new UsageError('finetune sft: --out <dir> is required (or pass --preview)');
  if (o.train !== 'all' && o.train !== 'lora') throw new UsageError(`finetune sft: --train must be all or lora, received "${String(o.train)}"`);
  const loraSettings = o.train === 'lora' ? loraFromArgs(o, 'finetune sft') : null;
  const precision = parsePrecisionSetting(o.precision, 'finetune sft: --precision');
  const valFrac = o['val-frac'] as number;
  if (!(valFrac >= 0 && valFrac < 1)) throw new UsageError(`finetune sft: --val-frac must be in [0, 1), received ${valFrac}`);
  const all = shuffled(records, o.seed as number);
  const nVal = Math.round(all.length * valFrac);
  const valid: SftRecord[] = all.slice(all.length - nVal);
  const train = all.slice(0, all.length - nVal);
  const config: SftConfig = {
    ...DEFAULT_SFT_CONFIG,
    steps: o.steps as number,
    batchSize: o['batch-size'] as number,
    lr: o.lr as number,
    minLr: (o.lr as number) / 10,
    warmup: Math.min(DEFAULT_SFT_CONFIG.warmup, Math.floor((o.steps as number) / 10)),
    maskPrompt,
    pack: o.pack === true,
    evalEvery: o['eval-every'] as number,
    seed: o.seed as number,
  };
  for (const k of ['steps', 'batchSize', 'lr'] as const) {
    if (!(Number.isFinite(config[k]) && config[k] > 0)) throw new UsageError(`finetune sft: --${k === 'batchSize' ? 'batch-size' : k} must be positive, received ${config[k]}`);
  }
  mkdirSync(o.out, { recursive: true });
  const quiet = o.quiet === true;
  const log = (s: string): void => {
    if (!quiet) process.stderr.write(`${s}\n`);
  };
  let lora: SftRun['lora'];
  if (loraSettings) {
    const { targets, summary } = attachLora(model, loraSettings, config.seed + 101);
    lora = { settings: loraSettings, targets, baseModel: o.model };
    log(`lora: r ${loraSettings.r}, alpha ${loraSettings.alpha}, dropout ${loraSettings.dropout} on ${summary.modules.length} linears (${targets.join(', ')})`);
  }
  const { trainable, total } = trainableParameters(model);
  log(`finetune sft: ${train.length} train / ${valid.length} held-out records, template ${template.name}, loss on ${maskPrompt ? 'responses only' : 'every token'}, ${config.pack ? 'packed' : 'padded'} batches of ${config.batchSize}, ${config.steps} steps, lr ${config.lr}`);
  log(`training ${lora ? 'lora' : 'all'}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(precision))}`);
  const progress = new Progress({ label: 'sft', total: config.steps, unit: 'steps', silent: quiet });
  const result = trainSft({ model, tokenizer, template, eosId: eos, train, valid, out: o.out, resume: o.resume === true, precision, ...(lora ? { lora } : {}) }, config, (info) => {
    progress.update(info.step);
    if (info.valLoss !== undefined) log(`step ${info.step}: loss ${info.loss.toFixed(4)}, val loss ${info.valLoss.toFixed(4)}`);
  }, (note) => log(`warning: ${note}`));
  progress.finish(config.steps);
  if (lora) mergeLora(model); // training is over: answer at base speed with the adapters folded in (as <out>/model holds them)
  const heldOut = valid.slice(0, o['eval-responses'] as number);
  const respProgress = new Progress({ label: 'responses', total: heldOut.length, unit: 'responses', silent: quiet });
  const scores = respondAndScore(model, tokenizer, template, heldOut, { eosId: eos, maxNewTokens: o['max-new-tokens'] as number, onRow: (i) => respProgress.update(i + 1) });
  respProgress.finish(heldOut.length);
  writeFileSync(join(o.out, 'responses.jsonl'), scores.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const summary = { steps: config.steps, trainLoss: result.finalLoss, valLoss: result.valLoss, responses: heldOut.length, exactMatch: scores.exactMatch, rougeL: scores.rougeL };
  writeFileSync(join(o.out, 'eval.json'), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(
    `train loss ${result.finalLoss.toFixed(4)}, val loss ${result.valLoss.toFixed(4)}; ${heldOut.length} held-out responses: exact match ${(100 * scores.exactMatch).toFixed(1)}%, ROUGE-L ${scores.rougeL.toFixed(3)}\n` +
      `wrote ${join(o.out, 'model')}${lora ? `, ${join(o.out, 'adapter')}` : ''}, metrics.jsonl, responses.jsonl, eval.json\n`,
  );
}
