/**
 * The one instruction-tuning run that `llmforge finetune sft` and the recipe stage `sft` both call: a typed options
 * object whose settings are optional, DEFAULT_SFT_OPTIONS holding every default in one place (the warmup and the
 * cosine floor follow steps and lr unless given), resolveSftOptions checking each field (one-line errors naming the
 * field as the caller's user knows it) and filling the defaults, and runSft: it loads the base and the records
 * (held out: a given file, or the last valFrac of the shuffled records), attaches LoRA when asked, trains
 * (src/finetune/sft-train.ts), answers the held-out records greedily and writes responses.jsonl and eval.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '../generate/model-dir.ts';
import { mergeLora, trainableParameters } from '../nn/lora.ts';
import { Rng, shuffled } from '../tensor/random.ts';
import { eosId } from '../tokenizer/text-tokenizer.ts';
import { OptionCheck, OptionError } from '../train/option-check.ts';
import {
  describePrecision,
  parsePrecisionSetting,
  resolvePrecision,
  type PrecisionSetting,
} from '../train/precision.ts';
import { defaultMinLr } from '../train/schedule.ts';
import { claimOutputDir } from '../train/run-dir.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { Progress } from '../util/progress.ts';
import { attachLora, formatTrainable, type LoraSettings } from './lora-finetune.ts';
import { resolveLoraOptions, type LoraOptions } from './lora-options.ts';
import { respondAndScore, type ResponseScores } from './sft-eval.ts';
import { loadSftRecords, type SftRecord } from '../chat/records.ts';
import { DEFAULT_SFT_CONFIG, trainSft, type SftConfig, type SftRun, type SftStepInfo } from './sft-train.ts';
import { resolveTemplate, TEMPLATE_NAMES } from '../chat/templates.ts';

export interface SftOptions extends LoraOptions {
  /** The base: a model directory or a training run directory. */
  base: string;
  /** Alpaca or chat records (JSON or JSONL). */
  data: string;
  /** Held-out records; none: the last valFrac of the data, shuffled with the seed. */
  eval?: string;
  /** Run directory: model/, metrics.jsonl, checkpoints/latest, responses.jsonl, eval.json (and adapter/ with LoRA). */
  out: string;
  template?: string;
  /** 'all' weights or 'lora' adapters. */
  mode?: 'all' | 'lora';
  steps?: number;
  batchSize?: number;
  lr?: number;
  minLr?: number;
  warmup?: number;
  evalEvery?: number;
  pack?: boolean;
  trainOnPrompt?: boolean;
  valFrac?: number;
  evalResponses?: number;
  maxNewTokens?: number;
  seed?: number;
  precision?: PrecisionSetting;
  /** Continue from <out>/checkpoints/latest (or latest.prev); without it, an <out> holding a checkpoint is refused. */
  resume?: boolean;
  /** Aborted (Ctrl-C): the current update finishes, a checkpoint is saved and the result says stopped. */
  signal?: AbortSignal;
  /** No progress bars. */
  quiet?: boolean;
  /** Setup lines, notes and validation losses (default: nowhere). */
  log?: (line: string) => void;
  onStep?: (info: SftStepInfo) => void;
}

export const DEFAULT_SFT_OPTIONS = Object.freeze({
  /** ChatML-style turns: chat records and plain instructions both render. */
  template: 'chatml',
  /** Train every weight. */
  mode: 'all' as 'all' | 'lora',
  /** Optimizer updates: a few epochs of a small instruction set. */
  steps: DEFAULT_SFT_CONFIG.steps,
  /** Examples (or packed rows) per update. */
  batchSize: DEFAULT_SFT_CONFIG.batchSize,
  /** Peak learning rate: an order below pretraining's, the base is already trained. */
  lr: DEFAULT_SFT_CONFIG.lr,
  /** Cosine floor: a tenth of lr. */
  minLr: defaultMinLr,
  /** Linear warmup: a tenth of the run, at most 10 updates (a short run still reaches its peak rate). */
  warmup: (steps: number): number => Math.min(10, Math.floor(steps / 10)),
  /** Held-out loss every this many updates (0: at the end only). */
  evalEvery: DEFAULT_SFT_CONFIG.evalEvery,
  /** One example per row, padded (pack: several per row, attention kept within each). */
  pack: false,
  /** Loss on the response tokens only. */
  trainOnPrompt: false,
  /** Share of the data held out when no eval file is given. */
  valFrac: 0.1,
  /** Held-out records answered and scored after training. */
  evalResponses: 40,
  /** Longest generated answer (EOS usually ends it sooner). */
  maxNewTokens: 128,
  /** Seed of the split, the batch order, dropout and the adapters. */
  seed: DEFAULT_SFT_CONFIG.seed,
  /** GEMM precision: bf16 on CPUs with fast bf16 dot products, else fp32. */
  precision: 'auto' as PrecisionSetting,
});

export interface ResolvedSft {
  base: string;
  data: string;
  eval: string | null;
  out: string;
  template: string;
  lora: LoraSettings | null;
  config: SftConfig;
  valFrac: number;
  evalResponses: number;
  maxNewTokens: number;
  precision: PrecisionSetting;
  resume: boolean;
}

/** Checks every field and fills the defaults; `check` names the fields in errors (default: as they are). */
export function resolveSftOptions(o: SftOptions, check = new OptionCheck()): ResolvedSft {
  const d = DEFAULT_SFT_OPTIONS;
  const mode = check.oneOf('mode', o.mode ?? d.mode, ['all', 'lora'] as const, 'all or lora');
  const lora = resolveLoraOptions(o, check);
  const steps = check.int('steps', o.steps ?? d.steps, 1);
  const lr = check.positive('lr', o.lr ?? d.lr);
  const minLr = o.minLr ?? d.minLr(lr);
  if (!(minLr >= 0 && minLr <= lr)) check.fail('minLr', `a number in [0, lr = ${lr}]`, minLr);
  const config: SftConfig = {
    ...DEFAULT_SFT_CONFIG,
    steps,
    lr,
    minLr,
    batchSize: check.int('batchSize', o.batchSize ?? d.batchSize, 1),
    warmup: check.int('warmup', o.warmup ?? d.warmup(steps), 0),
    evalEvery: check.int('evalEvery', o.evalEvery ?? d.evalEvery, 0),
    pack: o.pack ?? d.pack,
    maskPrompt: !(o.trainOnPrompt ?? d.trainOnPrompt),
    seed: check.int('seed', o.seed ?? d.seed, 0),
  };
  return {
    base: o.base,
    data: o.data,
    eval: o.eval ?? null,
    out: o.out,
    template: check.oneOf('template', o.template ?? d.template, TEMPLATE_NAMES),
    lora: mode === 'lora' ? lora : null,
    config,
    valFrac: check.fraction('valFrac', o.valFrac ?? d.valFrac),
    evalResponses: check.int('evalResponses', o.evalResponses ?? d.evalResponses, 0),
    maxNewTokens: check.int('maxNewTokens', o.maxNewTokens ?? d.maxNewTokens, 1),
    precision: parsePrecisionSetting(o.precision ?? d.precision, check.named('precision')),
    resume: o.resume === true,
  };
}

/** Training and held-out records: a given held-out file, or the last valFrac of the records shuffled by the seed. */
export function splitSftRecords(
  all: readonly SftRecord[],
  valFrac: number,
  seed: number,
): { train: SftRecord[]; valid: SftRecord[] } {
  const order = shuffled(all, new Rng(seed));
  const nVal = Math.round(order.length * valFrac);
  return { train: order.slice(0, order.length - nVal), valid: order.slice(order.length - nVal) };
}

export interface SftRunResult {
  /** Stopped by the signal: checkpoints/latest holds the run; no model, responses or eval.json were written. */
  stopped: boolean;
  /** Updates done. */
  step: number;
  finalLoss: number;
  valLoss: number;
  /** The held-out records answered, and their scores (rows in the same order). */
  heldOut: SftRecord[];
  scores: ResponseScores;
  /** What eval.json holds. */
  summary: Record<string, unknown>;
  resolved: ResolvedSft;
}

/** Resolves the options, trains, answers the held-out records and writes the run's files; see SftOptions. */
export async function runSft(o: SftOptions, check = new OptionCheck()): Promise<SftRunResult> {
  const r = resolveSftOptions(o, check);
  const log = o.log ?? (() => {});
  const where = check.where === '' ? '' : `${check.where}: `;
  claimOutputDir(r.out, r.resume, check.where); // before the base loads: a saved run is never overwritten
  const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(r.base);
  const template = resolveTemplate(r.template, r.template === 'model' ? tokenizerDir : modelDir);
  const eos = eosId(tokenizer);
  if (eos === undefined)
    throw new OptionError(
      `${where}the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which SFT appends to every response`,
    );
  const records = loadSftRecords(r.data);
  const { train, valid } =
    r.eval !== null
      ? { train: records, valid: loadSftRecords(r.eval) }
      : splitSftRecords(records, r.valFrac, r.config.seed);
  mkdirSync(r.out, { recursive: true });
  const c = r.config;
  let lora: SftRun['lora'];
  if (r.lora) {
    const { targets, summary } = attachLora(model, r.lora, c.seed + 101);
    lora = { settings: r.lora, targets, baseModel: r.base };
    log(
      `lora: r ${r.lora.r}, alpha ${r.lora.alpha}, dropout ${r.lora.dropout} on ${summary.modules.length} linears (${targets.join(', ')})`,
    );
  }
  const { trainable, total } = trainableParameters(model);
  const held = r.eval !== null ? r.eval : `the last ${valid.length} of ${records.length}`;
  log(
    `data: ${train.length} training records from ${r.data}, ${valid.length} held out (${held}); template ${template.name}, loss on ${c.maskPrompt ? 'responses only' : 'every token'}, ${c.pack ? 'packed' : 'padded'} batches of ${c.batchSize}, ${c.steps} steps, lr ${c.lr}`,
  );
  log(
    `training ${lora ? 'lora' : 'all'}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(r.precision))}`,
  );
  const progress = new Progress({ label: 'sft', total: c.steps, unit: 'steps', silent: o.quiet === true });
  const result = await trainSft(
    {
      model,
      tokenizer,
      template,
      eosId: eos,
      train,
      valid,
      out: r.out,
      resume: r.resume,
      precision: r.precision,
      ...(lora ? { lora } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    },
    c,
    (info) => {
      progress.update(info.step);
      if (info.valLoss !== undefined)
        log(`step ${info.step}/${c.steps}: loss ${info.loss.toFixed(4)}, held-out loss ${info.valLoss.toFixed(4)}`);
      o.onStep?.(info);
    },
    (note) => log(`note: ${note}`),
  );
  progress.finish(result.step);
  if (result.stopped)
    return { ...result, heldOut: [], scores: { rows: [], exactMatch: 0, rougeL: 0 }, summary: {}, resolved: r };
  if (lora) mergeLora(model); // training is over: answer at base speed with the adapters folded in, as <out>/model holds them
  const heldOut = valid.slice(0, r.evalResponses);
  const answering = new Progress({
    label: 'answers',
    total: heldOut.length,
    unit: 'answers',
    silent: o.quiet === true,
  });
  const scores = respondAndScore(model, tokenizer, template, heldOut, {
    eosId: eos,
    maxNewTokens: r.maxNewTokens,
    onRow: (i) => answering.update(i + 1),
  });
  answering.finish(heldOut.length);
  writeFileSync(join(r.out, 'responses.jsonl'), scores.rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  const summary = {
    steps: c.steps,
    trainLoss: result.finalLoss,
    valLoss: result.valLoss,
    responses: heldOut.length,
    exactMatch: scores.exactMatch,
    rougeL: scores.rougeL,
    template: template.name,
    train: lora ? 'lora' : 'all',
  };
  writeJsonAtomic(join(r.out, 'eval.json'), summary);
  return { ...result, heldOut, scores, summary, resolved: r };
}
