/**
 * The pretraining loop: AdamW (matrices decay, vectors do not) under a warmup + cosine schedule, gradient
 * accumulation over micro-batches, global-norm clipping folded into the optimizer step, and one seeded RNG for
 * data sampling with dropout seeds derived from the step, so a run is reproducible and a resumed run continues
 * bit-identically. Forward and backward run in a StorageArena (activation and gradient storage reused step to
 * step). Every evalInterval updates it measures validation loss, perplexity and bits per byte and
 * continues a fixed prompt; it logs to `<out>/metrics.jsonl`, shows a progress line (loss, tokens/s, MFU, ETA),
 * keeps `<out>/checkpoints/latest` and `best` (and, every keepEvery updates, an immutable `step-<N>` snapshot,
 * written before latest so a resume never skips one), and stops cleanly (saving) when its AbortSignal fires. GEMMs run in
 * config.precision (resolved once, applied for the run and restored after it; evaluation and samples run in it too),
 * which the first line, every step record and state.json name.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LanguageModel, type ModelConfig } from '../models/model.ts';
import { createModel } from '../models/create.ts';
import { CONFIG_FILE, loadModel } from '../models/model-io.ts';
import { AdamW } from '../optim/adamw.ts';
import { decayGroups, gradNorm } from '../optim/param-groups.ts';
import { StorageArena } from '../tensor/arena.ts';
import { Rng } from '../tensor/random.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { formatDuration } from '../util/progress.ts';
import {
  CheckpointError,
  configDiff,
  loadCheckpoint,
  OPTIMIZER_FILE,
  restoreOptimizer,
  saveCheckpoint,
  type RunState,
} from './checkpoint.ts';
import { DEFAULT_TRAIN_CONFIG, formatTrainConfig, validateTrainConfig, type TrainConfig } from './config.ts';
import { evaluate, type EvalResult, type TokenSource } from './evaluate.ts';
import { flopsPerToken, MetricsLog, mfu, mfuPeakGflops } from './metrics.ts';
import { sampleContinuation } from './sample.ts';
import { describePrecision, resolvePrecision, withTrainPrecision, type ResolvedPrecision } from './precision.ts';
import { lrAt, type LrSchedule } from './schedule.ts';
import { keepSnapshot, pruneSnapshots } from './snapshots.ts';
import { checkBatchFits } from './batch-size.ts';
import { libraryVersion } from './version.ts';
import { UserError } from '../util/user-error.ts';
import { claimOutputDir, latestCheckpointDir, stopRequested } from './run-dir.ts';

export interface TrainOptions {
  /** The resolved training hyperparameters (see DEFAULT_TRAIN_CONFIG). */
  config: TrainConfig;
  /**
   * The model: a config (a fresh model initialized from config.seed) or an instance. Optional with resume or
   * initFrom (the checkpoint's config is used); when given there, it must match the checkpoint's.
   */
  model?: ModelConfig | LanguageModel;
  train: TokenSource;
  val: TokenSource;
  /** Run directory: metrics.jsonl and checkpoints/{latest,best}. */
  out: string;
  /** Encodes the sample prompt and decodes samples; saved with checkpoints. */
  tokenizer?: TextTokenizer | null;
  /** Continue from <out>/checkpoints/latest (bit-identical to an uninterrupted run); 'auto': when one exists. */
  resume?: boolean | 'auto';
  /** Start a new run (fresh optimizer, step 0) from the weights in this model or checkpoint directory. */
  initFrom?: string;
  /** How the run was set up (data dir, preset, overrides): recorded in state.json. */
  run?: Record<string, unknown>;
  /** No terminal output (metrics.jsonl and hooks still get everything). */
  quiet?: boolean;
  /** Print the resolved config block at the start (default true; it is saved in state.json either way). */
  showConfig?: boolean;
  /** Where terminal output goes (default: stdout). */
  write?: (text: string) => void;
  /** When aborted (Ctrl-C), the current update finishes, a checkpoint is saved and train returns stopped: true. */
  signal?: AbortSignal;
}

export interface StepInfo {
  step: number;
  steps: number;
  /** Mean loss of this update's micro-batches. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export interface EvalInfo extends EvalResult {
  step: number;
  steps: number;
  /** Continuation of config.samplePrompt, or null without a tokenizer or prompt. */
  sample: string | null;
  /** True when this evaluation set a new best validation loss. */
  best: boolean;
  model: LanguageModel;
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  onEval?(info: EvalInfo): void;
  onCheckpoint?(info: { kind: 'latest' | 'best' | 'snapshot'; dir: string; step: number }): void;
}

export interface TrainResult {
  model: LanguageModel;
  /** Updates completed. */
  step: number;
  /** True when stopped by the signal before config.steps. */
  stopped: boolean;
  bestValLoss: number | null;
  lastEval: EvalResult | null;
  /** The latest checkpoint directory. */
  checkpointDir: string;
}

class TrainError extends UserError {}

/** The dropout seed of micro-batch `micro` of update `step`: a hash, so masks differ per step and resume exactly. */
export function dropoutSeedFor(seed: number, step: number, micro: number): number {
  let h = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(micro + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (h ^ (h >>> 12)) & 0x3fffffff;
}

/** A model directory from a path that may also be a run directory or a checkpoints directory. */
export function resolveModelDir(path: string): string {
  for (const dir of [
    path,
    join(path, 'best'),
    join(path, 'latest'),
    join(path, 'checkpoints', 'best'),
    join(path, 'checkpoints', 'latest'),
  ]) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
  }
  throw new TrainError(
    `--init-from ${path}: no ${CONFIG_FILE} there nor in its best/, latest/ or checkpoints/ subdirectories`,
  );
}

function copyWeights(from: LanguageModel, to: LanguageModel): void {
  const src = new Map(from.namedParameters());
  for (const [name, p] of to.namedParameters()) p.data.set(src.get(name)!.data);
}

function optimizerFor(model: LanguageModel, c: TrainConfig): AdamW {
  const params = model.parameters().filter((p) => p.requiresGrad);
  const groups = decayGroups(params);
  return new AdamW(groups, { lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay });
}

interface Initialized {
  model: LanguageModel;
  /** The run state of the checkpoint resumed from, or null for a new run. */
  state: RunState | null;
  resumedFrom: string | null;
}

/** The model to train: from the latest checkpoint (resume), from saved weights (initFrom), or freshly initialized. */
function initModel(opts: TrainOptions, resume: boolean, latestDir: string, say: (line: string) => void): Initialized {
  const c = opts.config;
  const given = opts.model instanceof LanguageModel ? opts.model : null;
  const requested: ModelConfig | undefined = given ? given.config : (opts.model as ModelConfig | undefined);
  if (resume) {
    const ck = loadCheckpoint(latestDir, requested);
    if (given) copyWeights(ck.model, given);
    // Keys added after the checkpoint was written count as their defaults (keepEvery in an older run's state.json).
    const saved = { ...DEFAULT_TRAIN_CONFIG, ...ck.state.config } as unknown as Record<string, unknown>;
    const now = c as unknown as Record<string, unknown>;
    // precision has its own note (its resolved value is compared in trainRun).
    const changed = Object.keys(c).filter(
      (k) => k !== 'precision' && JSON.stringify(now[k]) !== JSON.stringify(saved[k]),
    );
    if (changed.length > 0)
      say(
        `resume: training settings changed since the checkpoint: ${changed.map((k) => `${k} ${JSON.stringify(saved[k])} -> ${JSON.stringify(now[k])}`).join(', ')}`,
      );
    return { model: given ?? ck.model, state: ck.state, resumedFrom: ck.dir };
  }
  claimOutputDir(opts.out, false); // a new run: refused where a checkpoint (latest or latest.prev) is
  if (opts.initFrom !== undefined) {
    const dir = resolveModelDir(opts.initFrom);
    const loaded = loadModel(dir);
    if (requested) {
      const diff = configDiff(loaded.config, requested);
      if (diff.length > 0)
        throw new CheckpointError(
          `${join(dir, CONFIG_FILE)}: --init-from model differs from the requested one (checkpoint vs requested: ${diff.join(', ')})`,
        );
    }
    if (given) copyWeights(loaded, given);
    say(`initialized from ${dir} (weights only: fresh optimizer, step 0)`);
    return { model: given ?? loaded, state: null, resumedFrom: null };
  }
  if (!requested)
    throw new TrainError('train: a model (config or instance) is required unless resuming or using --init-from');
  return { model: given ?? createModel(requested, new Rng(c.seed)), state: null, resumedFrom: null };
}

function fmtRate(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/**
 * Runs (or resumes) a pretraining run; see TrainOptions. GEMMs run in config.precision for the duration of the
 * run; the previous matmul precision is restored when it returns or throws.
 */
export async function train(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  validateTrainConfig(opts.config);
  const precision = resolvePrecision(opts.config.precision);
  return withTrainPrecision(precision.precision, () => trainRun(opts, hooks, precision));
}

async function trainRun(opts: TrainOptions, hooks: TrainHooks, precision: ResolvedPrecision): Promise<TrainResult> {
  const c = opts.config;
  const write = opts.write ?? ((t: string) => void process.stdout.write(t));
  const tty = opts.write === undefined && process.stdout.isTTY === true;
  const say = (line: string): void => {
    if (!opts.quiet) write(`${tty ? '\r\x1b[K' : ''}${line}\n`);
  };
  const checkpointsDir = join(opts.out, 'checkpoints');
  const latestDir = join(checkpointsDir, 'latest');
  const bestDir = join(checkpointsDir, 'best');
  const resume = opts.resume === 'auto' ? latestCheckpointDir(opts.out) !== null : opts.resume === true;
  if (resume && opts.initFrom !== undefined)
    throw new TrainError(
      'train: --resume and --init-from cannot be combined (resume continues a run; init-from starts a new one)',
    );
  const init = initModel(opts, resume, latestDir, say);
  const { model, resumedFrom } = init;
  const startStep = init.state?.step ?? 0;
  const savedPrecision = init.state ? (init.state.precision ?? 'fp32') : null;
  if (savedPrecision !== null && savedPrecision !== precision.precision) {
    say(
      `note: the checkpoint was trained with ${savedPrecision} matmuls; resuming with ${describePrecision(precision)} (weights and optimizer state are fp32 either way)`,
    );
  }
  let best = init.state?.bestValLoss ?? null;
  const dataRng = new Rng(c.seed + 1);
  if (init.state) dataRng.setState(init.state.dataRng);

  const mc = model.config;
  const T = c.context === 0 ? mc.blockSize : c.context;
  if (T > mc.blockSize) throw new TrainError(`train: context ${T} exceeds the model's blockSize ${mc.blockSize}`);
  checkBatchFits('train', c.batchSize, T, mc.vocabSize);
  for (const [name, d] of [
    ['training', opts.train],
    ['validation', opts.val],
  ] as const) {
    if (d.vocabSize > mc.vocabSize)
      throw new TrainError(
        `train: the ${name} data has vocabulary ${d.vocabSize}, larger than the model's vocabSize ${mc.vocabSize}`,
      );
    if (d.numTokens < T + 1)
      throw new TrainError(`train: the ${name} data has ${d.numTokens} tokens, fewer than context + 1 = ${T + 1}`);
  }

  mkdirSync(opts.out, { recursive: true });
  const metrics = new MetricsLog(join(opts.out, 'metrics.jsonl'));
  metrics.truncateAfter(resumedFrom ? startStep : -1);

  const opt = optimizerFor(model, c);
  if (resumedFrom) restoreOptimizer(join(resumedFrom, OPTIMIZER_FILE), model, opt);
  const params = model.parameters().filter((p) => p.requiresGrad);
  const schedule: LrSchedule = {
    kind: c.schedule,
    lr: c.lr,
    minLr: c.minLr,
    warmup: c.warmup,
    decaySteps: c.lrDecaySteps || c.steps,
    warmupDivisor: c.warmupDivisor,
  };
  const B = c.batchSize;
  const tokensPerStep = B * T * c.gradAccum;
  const fpt = flopsPerToken(model, T);

  let prompt: number[] | null = null;
  if (opts.tokenizer && c.samplePrompt !== '' && c.sampleTokens > 0) {
    try {
      prompt = opts.tokenizer.encode(c.samplePrompt);
      if (prompt.length === 0) prompt = null;
    } catch (e) {
      say(
        `warning: samples disabled: the sample prompt ${JSON.stringify(c.samplePrompt)} cannot be encoded (${(e as Error).message})`,
      );
    }
  }

  if (c.warmup >= c.steps)
    say(`warning: warmup ${c.warmup} >= steps ${c.steps}: the learning rate never reaches its peak ${c.lr}`);
  if (!opts.quiet) {
    say(
      `${resumedFrom ? `resuming from ${resumedFrom} at step ${startStep}` : 'training'}: ${fmtRate(model.numParameters())} parameters (${mc.arch}, ${mc.nLayer} layers, ${mc.nEmbd} dims, vocab ${mc.vocabSize}), ${fmtRate(tokensPerStep)} tokens per update, ${(fpt / 1e6).toFixed(1)} MFLOP per token, ${describePrecision(precision)}`,
    );
    if (opts.showConfig ?? true) say(`config:\n${formatTrainConfig(c)}`);
  }

  const runState = (step: number): RunState => ({
    format: 'llmforge-train-state',
    library: libraryVersion(),
    step,
    bestValLoss: best,
    dataRng: dataRng.getState(),
    config: c,
    precision: precision.precision,
    model: mc,
    run: { ...(opts.run ?? {}), ...(opts.initFrom !== undefined ? { initFrom: opts.initFrom } : {}) },
    savedAt: new Date().toISOString(),
  });
  const save = (kind: 'latest' | 'best', step: number): void => {
    const dir = kind === 'latest' ? latestDir : bestDir;
    saveCheckpoint(dir, {
      model,
      optimizer: kind === 'latest' ? opt : null,
      state: runState(step),
      tokenizer: opts.tokenizer ?? null,
    });
    hooks.onCheckpoint?.({ kind, dir, step });
  };
  // A snapshot (model, state, tokenizer; no optimizer) is written before latest at the same step: a crash between
  // the two resumes from an earlier latest and passes this step again, finding the snapshot already there.
  const snapshot = (step: number): void => {
    const dir = keepSnapshot(checkpointsDir, step, (d) =>
      saveCheckpoint(d, { model, optimizer: null, state: runState(step), tokenizer: opts.tokenizer ?? null }),
    );
    if (dir !== null) hooks.onCheckpoint?.({ kind: 'snapshot', dir, step });
    pruneSnapshots(checkpointsDir, c.keepLast);
  };

  let lastEval: EvalResult | null = null;
  const runEval = (step: number): void => {
    const r = evaluate(model, opts.val, B, T, c.evalIters, c.evalSeed);
    lastEval = r;
    const isBest = step > 0 && (best === null || r.loss < best);
    if (isBest) best = r.loss;
    let sample: string | null = null;
    if (prompt) {
      const ids = sampleContinuation(model, prompt, {
        maxTokens: c.sampleTokens,
        temperature: c.sampleTemperature,
        seed: c.seed,
      });
      sample = opts.tokenizer!.decode(ids);
    }
    say(
      `eval step ${step}/${c.steps}: val loss ${r.loss.toFixed(4)} | ppl ${r.ppl.toFixed(2)} | ${r.bpb.toFixed(3)} bits/byte${isBest ? ' (best)' : ''}`,
    );
    if (sample !== null) say(`  sample: ${JSON.stringify(c.samplePrompt + sample)}`);
    metrics.append({ step, val_loss: r.loss, ppl: r.ppl, bpb: r.bpb, ...(sample !== null ? { sample } : {}) });
    if (isBest) save('best', step);
    hooks.onEval?.({ ...r, step, steps: c.steps, sample, best: isBest, model });
  };

  let step = startStep;
  if (step >= c.steps) {
    say(`already at step ${step} of ${c.steps}: nothing to train (raise --steps to continue)`);
    return { model, step, stopped: false, bestValLoss: best, lastEval, checkpointDir: latestDir };
  }
  if (step === 0 && c.evalInterval > 0) runEval(0);

  const runStart = performance.now();
  const peakGflops = mfuPeakGflops(c.peakGflops, precision.precision); // the peak of the precision matmuls run in
  let intervalMs = 0;
  let intervalSteps = 0;
  let lastDraw = 0;
  let stopped = false;
  model.train();
  // Each micro-batch's forward and backward reuse the previous one's storage (parameter gradients are kept).
  const arena = new StorageArena();
  while (step < c.steps) {
    const t0 = performance.now();
    const lr = lrAt(step, schedule);
    opt.setLr(lr);
    opt.zeroGrad();
    let lossSum = 0;
    for (let micro = 0; micro < c.gradAccum; micro++) {
      const { ids, targets } = opts.train.sampleBatch(dataRng, B, T);
      // Masks from (seed, step, micro-batch), not the model's call counter: evaluations in between and a resume
      // leave them unchanged.
      lossSum += arena.run(() => {
        const { loss } = model.forward(ids, B, T, targets, { dropoutSeed: dropoutSeedFor(c.seed, step, micro) });
        loss!.backward();
        return loss!.item();
      });
    }
    // Each micro-batch's gradient is of its own mean loss: the update uses their mean (scale 1/gradAccum).
    const norm = gradNorm(params) / c.gradAccum;
    const clip = c.clip > 0 && norm > c.clip ? c.clip / (norm + 1e-6) : 1;
    opt.step(clip / c.gradAccum);
    opt.zeroGrad();
    step++;
    const loss = lossSum / c.gradAccum;
    if (!Number.isFinite(loss))
      throw new TrainError(
        `train: the loss became ${loss} at step ${step} (lr ${lr.toExponential(2)}); lower lr or raise warmup, then resume from ${latestDir} or start again`,
      );
    const dt = performance.now() - t0;
    intervalMs += dt;
    intervalSteps++;
    hooks.onStep?.({ step, steps: c.steps, loss, lr, gradNorm: norm });

    const elapsed = (performance.now() - runStart) / 1000;
    const eta = (elapsed / (step - startStep)) * (c.steps - step);
    const progress = (tps: number): string =>
      `step ${step}/${c.steps} | loss ${loss.toFixed(4)} | lr ${lr.toExponential(2)} | norm ${norm.toFixed(3)} | ${fmtRate(tps)} tok/s | MFU ${(100 * mfu(fpt, tps, peakGflops)).toFixed(1)}% | ETA ${formatDuration(eta)}`;
    if (step % c.logInterval === 0 || step === c.steps || step === startStep + 1) {
      const tps = (tokensPerStep * intervalSteps) / (intervalMs / 1000);
      say(progress(tps));
      metrics.append({
        step,
        loss,
        lr,
        grad_norm: norm,
        tokens_per_s: tps,
        mfu: mfu(fpt, tps, peakGflops),
        elapsed_s: elapsed,
        precision: precision.precision,
      });
      intervalMs = 0;
      intervalSteps = 0;
    } else if (tty && !opts.quiet && performance.now() - lastDraw > 200) {
      lastDraw = performance.now();
      write(`\r${progress((tokensPerStep * intervalSteps) / (intervalMs / 1000))}\x1b[K`);
    }

    // Let signal handlers (Ctrl-C) run between updates.
    stopped = (await stopRequested(opts.signal)) && step < c.steps;
    const evalNow = !stopped && ((c.evalInterval > 0 && step % c.evalInterval === 0) || step === c.steps);
    if (evalNow) runEval(step);
    const keepNow = c.keepEvery > 0 && step % c.keepEvery === 0;
    if (keepNow) snapshot(step);
    const ckptNow = keepNow || (c.checkpointInterval > 0 ? step % c.checkpointInterval === 0 : evalNow);
    if (stopped || ckptNow || step === c.steps) save('latest', step);
    if (stopped) break;
  }
  if (stopped) say(`stopped at step ${step}/${c.steps}; checkpoint saved to ${latestDir}`);
  else
    say(
      `done: ${step} steps${startStep > 0 ? ` (${step - startStep} this session)` : ''} in ${formatDuration((performance.now() - runStart) / 1000)}; checkpoint ${latestDir}${best !== null ? `, best val loss ${best.toFixed(4)} in ${bestDir}` : ''}`,
    );
  return { model, step, stopped, bestValLoss: best, lastEval, checkpointDir: latestDir };
}
