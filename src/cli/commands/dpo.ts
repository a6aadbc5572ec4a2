/**
 * `llmforge dpo`: direct preference optimization of an instruction-tuned model on preference pairs (Alpaca style,
 * text or chat prompts; src/finetune/preference-data.ts). Splits off held-out pairs, trains all weights against a
 * frozen copy of the start or LoRA adapters against the same model with adapters off (--train lora), prints loss,
 * implicit rewards, reward accuracy and margin on training and held-out pairs at each evaluation, and writes
 * <out>/model (opened by generate and chat), <out>/adapter for LoRA, metrics.jsonl, eval.json and resumable
 * checkpoints (--resume).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DPO_CONFIG, frozenCopy, trainDpo, type DpoConfig, type DpoEval, type DpoRun } from '../../align/dpo-train.ts';
import { checkDpoOptions, type DpoLossType } from '../../align/dpo-loss.ts';
import { attachLora, formatTrainable } from '../../finetune/lora-finetune.ts';
import { loadPreferencePairs } from '../../finetune/preference-data.ts';
import { resolveTemplate } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { trainableParameters } from '../../nn/lora.ts';
import { Rng } from '../../tensor/random.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { describePrecision, parsePrecisionSetting, resolvePrecision } from '../../train/precision.ts';
import { Progress } from '../../util/progress.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { loraFromArgs, loraOptions } from './finetune-sft.ts';

function positive(name: string, value: unknown, integer: boolean): number {
  const n = value as number;
  if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)))) throw new UsageError(`dpo: --${name} must be a positive ${integer ? 'integer' : 'number'}, received ${String(value)}`);
  return n;
}

function describe(e: DpoEval): string {
  return `loss ${e.loss.toFixed(4)}, rewards chosen ${e.chosen.toFixed(3)} rejected ${e.rejected.toFixed(3)}, accuracy ${(100 * e.accuracy).toFixed(1)}%, margin ${e.margin.toFixed(3)}`;
}

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
      model: { type: 'string', help: 'Instruction-tuned model: model directory or run directory (the reference starts equal to it)', arg: 'DIR' },
      data: { type: 'string', help: 'Preference pairs (.json array or .jsonl)', arg: 'FILE' },
      out: { type: 'string', help: 'Output directory (model, checkpoints, metrics.jsonl, eval.json)', arg: 'DIR' },
      beta: { type: 'number', help: 'KL strength: smaller lets the policy move further from the reference', default: DEFAULT_DPO_CONFIG.beta, arg: 'B' },
      loss: { type: 'string', help: 'sigmoid (DPO) or ipo', default: DEFAULT_DPO_CONFIG.loss, arg: 'NAME' },
      'label-smoothing': { type: 'number', help: 'Conservative DPO: assumed share of flipped labels, in [0, 0.5) (sigmoid only)', default: 0, arg: 'E' },
      steps: { type: 'number', help: 'Optimizer updates', default: DEFAULT_DPO_CONFIG.steps, arg: 'N' },
      'batch-size': { type: 'number', help: 'Preference pairs per update', default: DEFAULT_DPO_CONFIG.batchSize, arg: 'N' },
      lr: { type: 'number', help: 'AdamW peak learning rate (warmup, cosine decay to a tenth); 5e-5 suits our 1-10M-parameter models, 5e-6 is usual for 7B', default: DEFAULT_DPO_CONFIG.lr, arg: 'LR' },
      template: { type: 'string', help: 'Prompt template: alpaca, chatml (default) or model; use the one the model was tuned with', default: 'chatml', arg: 'NAME' },
      'max-length': { type: 'number', help: 'Longest prompt + response in tokens (default: the context + 1); the prompt is cut first', arg: 'N' },
      'val-frac': { type: 'number', help: 'Held-out share of the pairs', default: 0.1, arg: 'F' },
      'eval-every': { type: 'number', help: 'Evaluate (train slice and held-out) every N updates (0: at the end only)', default: DEFAULT_DPO_CONFIG.evalEvery, arg: 'N' },
      train: { type: 'string', help: 'What trains: all (reference: a frozen copy) or lora (reference: adapters off)', default: 'all', arg: 'MODE' },
      ...loraOptions,
      seed: { type: 'number', help: 'Seed of the split, batch order, adapters and dropout', default: DEFAULT_DPO_CONFIG.seed, arg: 'N' },
      precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16 (see finetune --help)', default: 'auto', arg: 'P' },
      resume: { type: 'boolean', help: 'Continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'No progress or evaluation lines' },
    },
  },
  run(args) {
    const o = args.options;
    if (args.positionals.length > 0) throw new UsageError(`dpo: unexpected argument "${args.positionals[0]}"; pass files with --model, --data and --out`);
    if (typeof o.model !== 'string') throw new UsageError('dpo: --model <instruction-tuned model or run dir> is required');
    if (typeof o.data !== 'string') throw new UsageError('dpo: --data <json|jsonl of preference pairs> is required');
    if (typeof o.out !== 'string') throw new UsageError('dpo: --out <dir> is required');
    if (o.train !== 'all' && o.train !== 'lora') throw new UsageError(`dpo: --train must be all or lora, received "${String(o.train)}"`);
    const steps = positive('steps', o.steps, true);
    const lr = positive('lr', o.lr, false);
    const config: DpoConfig = {
      ...DEFAULT_DPO_CONFIG,
      beta: o.beta as number,
      loss: o.loss as DpoLossType,
      labelSmoothing: o['label-smoothing'] as number,
      steps,
      batchSize: positive('batch-size', o['batch-size'], true),
      lr,
      minLr: lr / 10,
      warmup: Math.min(DEFAULT_DPO_CONFIG.warmup, Math.floor(steps / 10)),
      evalEvery: o['eval-every'] as number,
      seed: o.seed as number,
    };
    checkDpoOptions(config, 'dpo');
    if (!(Number.isInteger(config.evalEvery) && config.evalEvery >= 0)) throw new UsageError(`dpo: --eval-every must be a whole number >= 0, received ${config.evalEvery}`);
    const valFrac = o['val-frac'] as number;
    if (!(valFrac >= 0 && valFrac < 1)) throw new UsageError(`dpo: --val-frac must be in [0, 1), received ${valFrac}`);
    const maxLength = o['max-length'] === undefined ? undefined : positive('max-length', o['max-length'], true);
    if (maxLength !== undefined && maxLength < 2) throw new UsageError(`dpo: --max-length must be at least 2 (one prompt and one response token), received ${maxLength}`);
    const precision = parsePrecisionSetting(o.precision, 'dpo: --precision');
    const loraSettings = o.train === 'lora' ? loraFromArgs(o, 'dpo') : null;
    const data = loadPreferencePairs(o.data);
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
    const template = resolveTemplate(o.template as string, o.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined) throw new UsageError(`dpo: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which ends every response`);
    const pairs = [...data.pairs];
    const rng = new Rng(config.seed);
    for (let i = pairs.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
    }
    const nVal = Math.round(pairs.length * valFrac);
    const train = pairs.slice(0, pairs.length - nVal);
    const valid = pairs.slice(pairs.length - nVal);
    mkdirSync(o.out, { recursive: true });
    const quiet = o.quiet === true;
    const log = (s: string): void => {
      if (!quiet) process.stderr.write(`${s}\n`);
    };
    let lora: DpoRun['lora'];
    let reference: DpoRun['reference'];
    if (loraSettings) {
      const { targets, summary } = attachLora(model, loraSettings, config.seed + 101);
      lora = { settings: loraSettings, targets, baseModel: o.model };
      log(`lora: r ${loraSettings.r}, alpha ${loraSettings.alpha}, dropout ${loraSettings.dropout} on ${summary.modules.length} linears; reference: the same model with adapters off`);
    } else reference = frozenCopy(model);
    const { trainable, total } = trainableParameters(model);
    log(`dpo: ${train.length} train / ${valid.length} held-out pairs${data.identical > 0 ? ` (${data.identical} with identical responses left out)` : ''}, template ${template.name}, loss ${config.loss}${config.labelSmoothing > 0 ? ` (label smoothing ${config.labelSmoothing})` : ''}, beta ${config.beta}, ${config.batchSize} pairs per step, ${config.steps} steps, lr ${config.lr}`);
    log(`training ${lora ? 'lora' : 'all'}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(precision))}`);
    const progress = new Progress({ label: 'dpo', total: config.steps, unit: 'steps', silent: quiet });
    const run: DpoRun = { model, tokenizer, template, eosId: eos, train, valid, out: o.out, resume: o.resume === true, precision, ...(maxLength !== undefined ? { maxTokens: maxLength } : {}), ...(lora ? { lora } : { reference: reference! }) };
    const result = trainDpo(run, config, (info) => {
      progress.update(info.step);
      if (info.train) log(`step ${info.step}: train ${describe(info.train)}${info.valid ? `\n${' '.repeat(`step ${info.step}: `.length)}held-out ${describe(info.valid)}` : ''}`);
    }, (note) => log(`note: ${note}`));
    progress.finish(config.steps);
    const f = result.final;
    const start = result.initial.valid ?? result.initial.train;
    const end = f?.valid ?? f?.train;
    const which = result.initial.valid ? 'held-out' : 'train';
    process.stdout.write(
      // At the start policy = reference: every reward is 0, so accuracy and margin start at 0 and only the loss is shown.
      (end ? `${which} pairs after ${config.steps} steps: loss ${end.loss.toFixed(4)} (${start.loss.toFixed(4)} at the start), reward accuracy ${(100 * end.accuracy).toFixed(1)}%, margin ${end.margin.toFixed(3)}\n` : '') +
        `wrote ${join(o.out, 'model')}${lora ? `, ${join(o.out, 'adapter')}` : ''}, metrics.jsonl, eval.json\n`,
    );
  },
};
