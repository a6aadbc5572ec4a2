/**
 * The one domain-adaptation run that `llmforge finetune domain` and the recipe stage `domain` both call: a typed
 * options object whose settings are optional, DEFAULT_DOMAIN_OPTIONS holding every default in one place (warmup,
 * the cosine floor and the log interval follow steps and lr unless given), resolveDomainOptions checking each
 * field (one-line errors naming the field as the caller's user knows it) and filling the defaults into the
 * trainer's config, and runDomainAdaptation running it (src/finetune/domain.ts: before/after perplexity report).
 */
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig, type TrainConfig } from '../train/config.ts';
import { OptionCheck } from '../train/option-check.ts';
import { parsePrecisionSetting, type PrecisionSetting } from '../train/precision.ts';
import { defaultMinLr } from '../train/schedule.ts';
import { adaptDomain, type DomainOptions, type DomainResult } from './domain.ts';

export interface DomainRunOptions {
  /** The base: a model directory, a training run directory or hf://owner/name. */
  base: string;
  /** Domain text files (.txt/.md read whole; .jsonl: their "text" fields). */
  data: readonly string[];
  /** Run directory: data/, checkpoints/, metrics.jsonl, domain-report.json. */
  out: string;
  /** Held-out domain text file; none: the last valFrac of the domain text. */
  val?: string;
  valFrac?: number;
  /** General text for the forgetting check: a file or toy-world[:N]; none: domain only. */
  general?: string;
  steps?: number;
  lr?: number;
  minLr?: number;
  batchSize?: number;
  /** Tokens per training sequence and perplexity window (0: the base's context length). */
  context?: number;
  /** Perplexity window stride (0: the window, disjoint windows). */
  stride?: number;
  warmup?: number;
  evalInterval?: number;
  evalIters?: number;
  samplePrompt?: string;
  seed?: number;
  precision?: PrecisionSetting;
  /** Continue the run in `out` from its latest checkpoint when there is one. */
  resume?: boolean;
  quiet?: boolean;
  /** Terminal output (default: stdout). */
  write?: (text: string) => void;
  /** When aborted, training saves a checkpoint and the result says stopped. */
  signal?: AbortSignal;
}

export const DEFAULT_DOMAIN_OPTIONS = Object.freeze({
  /** Share of the domain text held out when no val file is given. */
  valFrac: 0.1,
  /** Optimizer updates. */
  steps: 300,
  /** Peak learning rate, half the pretraining default: faster adaptation forgets more general text. */
  lr: 5e-4,
  /** Cosine floor: a tenth of lr. */
  minLr: defaultMinLr,
  /** Sequences per update. */
  batchSize: 16,
  /** The base's context length. */
  context: 0,
  /** Disjoint perplexity windows. */
  stride: 0,
  /** Linear warmup: a tenth of the run, at most 100 updates. */
  warmup: (steps: number): number => Math.min(100, Math.floor(steps / 10)),
  /** Validation evaluations every this many updates (0: at the end only). */
  evalInterval: 100,
  /** Validation batches per evaluation. */
  evalIters: 20,
  /** Prompt continued at each evaluation ('' disables). */
  samplePrompt: DEFAULT_TRAIN_CONFIG.samplePrompt,
  /** Ten log lines per run. */
  logInterval: (steps: number): number => Math.max(1, Math.floor(steps / 10)),
  /** Seed of data sampling and dropout. */
  seed: DEFAULT_TRAIN_CONFIG.seed,
  /** GEMM precision: bf16 on CPUs with fast bf16 dot products, else fp32. */
  precision: 'auto' as PrecisionSetting,
});

/** Checks every field and fills the defaults; `check` names the fields in errors (default: as they are). */
export function resolveDomainOptions(o: DomainRunOptions, check = new OptionCheck()): DomainOptions {
  const d = DEFAULT_DOMAIN_OPTIONS;
  const steps = check.int('steps', o.steps ?? d.steps, 1);
  const lr = check.positive('lr', o.lr ?? d.lr);
  const context = check.int('context', o.context ?? d.context, 0);
  const stride = check.int('stride', o.stride ?? d.stride, 0);
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    steps,
    lr,
    context,
    minLr: o.minLr ?? d.minLr(lr),
    batchSize: check.int('batchSize', o.batchSize ?? d.batchSize, 1),
    warmup: check.int('warmup', o.warmup ?? d.warmup(steps), 0),
    evalInterval: check.int('evalInterval', o.evalInterval ?? d.evalInterval, 0),
    evalIters: check.int('evalIters', o.evalIters ?? d.evalIters, 1),
    samplePrompt: check.string('samplePrompt', o.samplePrompt ?? d.samplePrompt),
    logInterval: d.logInterval(steps),
    seed: check.int('seed', o.seed ?? d.seed, 0),
    precision: parsePrecisionSetting(o.precision ?? d.precision, check.named('precision')),
  };
  validateTrainConfig(config);
  return {
    base: o.base,
    data: [...o.data],
    out: o.out,
    config,
    ...(o.val !== undefined ? { val: o.val } : {}),
    valFraction: o.valFrac ?? d.valFrac,
    ...(o.general !== undefined ? { general: o.general } : {}),
    ...(context > 0 ? { evalContext: context } : {}),
    ...(stride > 0 ? { evalStride: stride } : {}),
    resume: o.resume === true,
    ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
    ...(o.write ? { write: o.write } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
}

/** Resolves the options and runs the adaptation with its before/after report; see DomainRunOptions. */
export function runDomainAdaptation(o: DomainRunOptions, check = new OptionCheck()): Promise<DomainResult> {
  return adaptDomain(resolveDomainOptions(o, check));
}
