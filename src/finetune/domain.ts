/**
 * Domain adaptation: continued pretraining of a base model on a user's own text, with a before/after perplexity
 * report. The domain text is split into training text and a held-out tail (or a given validation file), the
 * training text is prepared into token shards with the base's own tokenizer (src/data/prepare.ts), the base's
 * perplexity is measured on the held-out domain text and on optional general text, the pretraining loop runs from
 * the base's weights (resumable like `llmforge train`), and the adapted model is measured again. The output
 * directory is a training run, so generate, predict and chat load it; the report goes to `<out>/domain-report.json`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenDataset } from '../data/dataset.ts';
import { prepareData, splitTail } from '../data/prepare.ts';
import { textPerplexity, type PerplexityOptions } from '../eval/perplexity.ts';
import { readEvalText, type EvalText } from '../eval/text-input.ts';
import { loadModelDir } from '../generate/model-dir.ts';
import type { LanguageModel } from '../models/model.ts';
import { encodeDocument, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { checkBatchFits } from '../train/batch-size.ts';
import type { TrainConfig } from '../train/config.ts';
import { claimOutputDir, latestPath } from '../train/run-dir.ts';
import { train, type TrainResult } from '../train/trainer.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { Progress } from '../util/progress.ts';
import { beforeAfter, pplStats, type DomainReport, type PplStats } from './domain-report.ts';
import { UserError } from '../util/user-error.ts';

export class DomainError extends UserError {}

export interface DomainOptions {
  /** The base: a model directory, a training run directory or hf://owner/name. */
  base: string;
  /** Domain text files (.txt/.md read whole; .jsonl: their "text" fields). */
  data: string[];
  /** Held-out domain text; default: the last valFraction of the domain text's characters. */
  val?: string;
  /** Share of the domain text held out when `val` is not given (default 0.1). */
  valFraction?: number;
  /** General text to measure forgetting on: a file or toy-world[:N]; none: the report has domain only. */
  general?: string;
  /** Run directory: data/, checkpoints/, metrics.jsonl, domain-report.json. */
  out: string;
  /** Training hyperparameters (context 0: the base's context length). */
  config: TrainConfig;
  /** Perplexity window (default: the training context) and stride (default: the window). */
  evalContext?: number;
  evalStride?: number;
  /** Continue the run in `out` from its latest checkpoint when there is one. */
  resume?: boolean;
  quiet?: boolean;
  /** Terminal output (default: stdout). */
  write?: (text: string) => void;
  /** When aborted, training saves a checkpoint and adaptDomain returns with stopped: true. */
  signal?: AbortSignal;
}

export interface DomainResult {
  /** Null when training was stopped before the end. */
  report: DomainReport | null;
  stopped: boolean;
  step: number;
}

const BEFORE_FILE = 'domain-before.json';

/** The base's numbers, saved so that a resumed run need not measure the base again. */
interface BeforeRecord {
  domain: PplStats;
  general: PplStats | null;
  context: number;
  stride: number | null;
  generalText: string | null;
}
export const DOMAIN_REPORT_FILE = 'domain-report.json';

/** The domain text split into training text and held-out text (the tail of the concatenated files, or `val`). */
export function splitDomainText(
  data: readonly EvalText[],
  val: EvalText | null,
  valFraction: number,
): { train: string; val: string; valSource: string } {
  const all = data.map((d) => d.text).join('\n');
  if (val) return { train: all, val: val.text, valSource: val.source };
  if (!(valFraction > 0 && valFraction < 1))
    throw new DomainError(
      `finetune domain: the validation fraction must be in (0, 1) when no --val file is given, received ${valFraction}`,
    );
  const [head, tail] = splitTail(all, valFraction);
  return {
    train: head,
    val: tail,
    valSource: `tail ${(100 * valFraction).toFixed(0)}% of ${data.map((d) => d.source).join(', ')}`,
  };
}

function measure(
  model: LanguageModel,
  tok: TextTokenizer,
  t: { label: string; text: string },
  opts: PerplexityOptions,
  quiet: boolean,
): PplStats {
  let progress: Progress | null = null;
  const r = textPerplexity(model, tok, t.text, {
    ...opts,
    label: t.label,
    onProgress: (done, total) => {
      progress ??= new Progress({ label: `ppl ${t.label}`, total, unit: 'windows', silent: quiet });
      progress.update(done);
    },
  });
  (progress as Progress | null)?.finish(r.windows);
  return pplStats(r);
}

/** Runs (or resumes) a domain adaptation; see DomainOptions. */
export async function adaptDomain(opts: DomainOptions): Promise<DomainResult> {
  const write = opts.write ?? ((t: string) => void process.stdout.write(t));
  const say = (line: string): void => {
    if (!opts.quiet) write(`${line}\n`);
  };
  if (opts.data.length === 0)
    throw new DomainError('finetune domain: no domain text files given (--data <file>[,<file>...])');
  // Every input is read (and checked) before anything is written.
  const data = opts.data.map((f) => readEvalText(f, '--data'));
  const valText = opts.val !== undefined ? readEvalText(opts.val, '--val') : null;
  const general = opts.general !== undefined ? readEvalText(opts.general, '--general') : null;
  const base = loadModelDir(opts.base);
  const { tokenizer } = base;
  const block = base.model.config.blockSize;
  const T = opts.config.context === 0 ? block : opts.config.context;
  if (T > block)
    throw new DomainError(
      `finetune domain: --context ${T} exceeds the base's context length ${block} (blockSize in ${base.modelDir})`,
    );
  // A batch too large to allocate is refused here, before the data split is written into --out.
  checkBatchFits('finetune domain: --batch-size', opts.config.batchSize, T, base.model.config.vocabSize);
  const evalContext = opts.evalContext ?? T;
  if (evalContext > block)
    throw new DomainError(
      `finetune domain: --eval-context ${evalContext} exceeds the base's context length ${block} (blockSize in ${base.modelDir})`,
    );
  const pplOpts: PerplexityOptions = {
    context: evalContext,
    ...(opts.evalStride !== undefined ? { stride: opts.evalStride } : {}),
  };

  const split = splitDomainText(data, valText, opts.valFraction ?? 0.1);
  const valIds = encodeDocument(tokenizer, split.val);
  if (valIds.length < T + 1) {
    throw new DomainError(
      `finetune domain: the held-out domain text (${split.valSource}) has ${valIds.length} tokens, fewer than context + 1 = ${T + 1}; raise --val-frac, pass a longer --val file or lower --context`,
    );
  }
  const dataDir = join(opts.out, 'data');
  // A new run never overwrites a saved one; a resume continues latest (or latest.prev, left by a crash mid-save).
  const resuming = claimOutputDir(opts.out, opts.resume === true, 'finetune domain') !== null;
  if (opts.resume === true && !resuming)
    say(`resume: no checkpoint in ${latestPath(opts.out)} yet; starting from the base`);

  // Training shards with the base's tokenizer; user text kept whole (normalized, no quality filters).
  mkdirSync(dataDir, { recursive: true });
  const trainFile = join(dataDir, 'domain-train.txt');
  const valFile = join(dataDir, 'domain-val.txt');
  const splitFile = join(dataDir, 'domain-split.json');
  const splitRecord = {
    data: opts.data,
    val: opts.val ?? null,
    valFraction: opts.val === undefined ? (opts.valFraction ?? 0.1) : null,
  };
  if (resuming && existsSync(splitFile)) {
    const was = readFileSync(splitFile, 'utf8').trim();
    if (was !== JSON.stringify(splitRecord))
      throw new DomainError(
        `finetune domain: the domain split differs from the run being resumed (${was} in ${splitFile}, now ${JSON.stringify(splitRecord)}); resume with the same --data, --val and --val-frac`,
      );
  }
  if (!(resuming && existsSync(join(dataDir, 'meta.json')))) {
    writeFileAtomic(valFile, split.val);
    writeFileAtomic(trainFile, split.train);
    writeFileAtomic(splitFile, `${JSON.stringify(splitRecord)}\n`);
    const prep = await prepareData({
      sources: [{ name: 'domain', path: trainFile }],
      out: dataDir,
      tokenizer,
      valFraction: 0,
      clean: { filters: false, nearDedup: false },
      progress: !opts.quiet,
    });
    say(
      `domain data: ${prep.meta.splits.train.tokens.toLocaleString('en-US')} training tokens in ${dataDir}; held out ${valIds.length.toLocaleString('en-US')} tokens (${split.valSource})`,
    );
  }
  const trainData = TokenDataset.open(dataDir, 'train');
  const val = TokenDataset.fromTokens(valIds, tokenizer.vocabSize, Buffer.byteLength(split.val) / valIds.length);
  const domainText = { label: 'domain-val', text: split.val };
  const generalText = general ? { label: general.label, text: general.text } : null;

  // Before: the base, measured once per run (a resumed run reuses the saved numbers).
  const beforePath = join(opts.out, BEFORE_FILE);
  let before: BeforeRecord | null = null;
  if (resuming && existsSync(beforePath)) {
    const saved = JSON.parse(readFileSync(beforePath, 'utf8')) as BeforeRecord;
    if (
      saved.context === evalContext &&
      saved.stride === (opts.evalStride ?? null) &&
      saved.generalText === (general?.source ?? null)
    )
      before = saved;
  }
  if (before === null) {
    say(`measuring the base ${base.modelDir}`);
    before = {
      domain: measure(base.model, tokenizer, domainText, pplOpts, opts.quiet === true),
      general: generalText ? measure(base.model, tokenizer, generalText, pplOpts, opts.quiet === true) : null,
      context: evalContext,
      stride: opts.evalStride ?? null,
      generalText: general?.source ?? null,
    };
    writeJsonAtomic(beforePath, before);
  }
  if (!general)
    say(
      'no --general text: reporting domain perplexity only (pass --general <file>, or --general toy-world for a base pretrained on the toy world)',
    );

  let result: TrainResult;
  const t0 = performance.now();
  try {
    result = await train({
      config: opts.config,
      train: trainData,
      val,
      out: opts.out,
      tokenizer,
      resume: resuming,
      ...(resuming ? {} : { initFrom: base.modelDir }),
      run: { kind: 'domain', base: base.modelDir, data: dataDir, domain: opts.data, val: split.valSource },
      ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
      showConfig: false,
      write,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    trainData.close();
  }
  if (result.stopped) return { report: null, stopped: true, step: result.step };
  const seconds = (performance.now() - t0) / 1000;

  // After: the model that `--model <out>` loads (checkpoints/best, else latest).
  const after = loadModelDir(opts.out);
  const afterDomain = measure(after.model, tokenizer, domainText, pplOpts, opts.quiet === true);
  const afterGeneral = generalText ? measure(after.model, tokenizer, generalText, pplOpts, opts.quiet === true) : null;
  const c = opts.config;
  const report: DomainReport = {
    format: 'llmforge-domain-report',
    base: base.modelDir,
    model: after.modelDir,
    eval: { context: evalContext, stride: opts.evalStride ?? evalContext },
    training: {
      steps: result.step,
      lr: c.lr,
      batchSize: c.batchSize,
      context: T,
      trainTokens: trainData.numTokens,
      seconds,
      finalValLoss: result.lastEval?.loss ?? null,
    },
    domain: beforeAfter(split.valSource, before.domain, afterDomain),
    general:
      general && before.general && afterGeneral ? beforeAfter(general.source, before.general, afterGeneral) : null,
  };
  writeJsonAtomic(join(opts.out, DOMAIN_REPORT_FILE), report);
  return { report, stopped: false, step: result.step };
}
