/**
 * The DPO training loop: preference pairs are tokenized (dpo-batch.ts), shuffled per epoch with a seeded RNG and
 * batched B pairs (2B rows) at a time; each step scores the batch under the frozen reference (a copy of the starting
 * weights, or with LoRA the same model with its adapters switched off), then under the policy with gradients, and
 * takes an AdamW step on the DPO loss (dpo-loss.ts) with warmup, cosine decay and gradient clipping. Every eval it
 * measures loss, implicit rewards, reward accuracy and margin on a fixed slice of the training pairs and on the
 * held-out pairs. Checkpoints (weights or adapter, optimizer, data position) make a resumed run bit-identical to an
 * uninterrupted one; the run writes metrics.jsonl, eval.json, `<out>/model` (merged for LoRA, with its tokenizer,
 * so generate and chat open it) and for LoRA `<out>/adapter` (PEFT layout).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergedLoraCopy, restoreTrainedWeights, saveAdapter, type LoraRun } from '../finetune/lora-finetune.ts';
import type { PreferencePair } from '../finetune/preference-data.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import { createModel } from '../models/create.ts';
import type { LanguageModel } from '../models/model.ts';
import { saveModel } from '../models/model-io.ts';
import { seedLoraDropout, withLoraDisabled } from '../nn/lora.ts';
import * as F from '../ops/index.ts';
import { AdamW } from '../optim/adamw.ts';
import { clipGradNorm, decayGroups } from '../optim/param-groups.ts';
import { StorageArena } from '../tensor/arena.ts';
import { noGrad } from '../tensor/autograd.ts';
import { Rng, shuffleInPlace } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { saveTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import {
  CheckpointError,
  OPTIMIZER_FILE,
  replaceDirAtomic,
  restoreOptimizer,
  serializeOptimizer,
} from '../train/checkpoint.ts';
import { MetricsLog } from '../train/metrics.ts';
import {
  describePrecision,
  resolvePrecision,
  type PrecisionSetting,
  type ResolvedPrecision,
  withTrainPrecision,
} from '../train/precision.ts';
import { claimOutputDir, latestPath, stopRequested } from '../train/run-dir.ts';
import { lrAt } from '../train/schedule.ts';
import { dropoutSeedFor } from '../train/trainer.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { dpoPairBatch, tokenizeDpoPair, type DpoExample } from './dpo-batch.ts';
import { dpoLoss, rewardStats, type DpoLossOptions, type RewardStats } from './dpo-loss.ts';
import { referenceLogprobs, sequenceLogprobs } from './sequence-logprobs.ts';
import { UserError } from '../util/user-error.ts';

export interface DpoConfig extends DpoLossOptions {
  /** Optimizer updates. */
  steps: number;
  /** Preference pairs per update (2x rows per forward). */
  batchSize: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  /** Evaluation every this many updates (0: only at the end). */
  evalEvery: number;
  /** Training pairs re-scored at each evaluation (the first ones, fixed). */
  trainEvalPairs: number;
  seed: number;
}

export const DEFAULT_DPO_CONFIG: Readonly<DpoConfig> = Object.freeze({
  beta: 0.1, // the DPO paper's default: the policy may drift, but the KL term still holds it near the reference
  loss: 'sigmoid' as const,
  labelSmoothing: 0,
  steps: 100,
  batchSize: 8,
  lr: 5e-5, // our models are 1-10M parameters: 5e-6 (usual for 7B) barely moves them in a few hundred steps
  minLr: 5e-6,
  warmup: 10,
  weightDecay: 0,
  gradClip: 1.0,
  evalEvery: 25,
  trainEvalPairs: 100,
  seed: 1337,
});

export interface DpoRun {
  /** The policy: trained in place (with LoRA: its adapters only). */
  model: LanguageModel;
  /** The frozen reference (a copy of the starting weights); absent with LoRA, where adapters are switched off instead. */
  reference?: LanguageModel;
  tokenizer: TextTokenizer;
  template: PromptTemplate;
  eosId: number;
  train: readonly PreferencePair[];
  valid: readonly PreferencePair[];
  /** Longest sequence (prompt + response) in tokens; default and cap: the model's context + 1. */
  maxTokens?: number;
  /** Where metrics.jsonl, checkpoints/latest, eval.json and the final model go; none: nothing is written. */
  out?: string;
  /** Continue from checkpoints/latest (or latest.prev); without it, an `out` holding a checkpoint is refused. */
  resume?: boolean;
  lora?: LoraRun;
  precision?: PrecisionSetting;
  /** Aborted (Ctrl-C): the current update finishes, checkpoints/latest is saved and the result says stopped. */
  signal?: AbortSignal;
}

/** Loss and reward statistics over a set of pairs. */
export interface DpoEval extends RewardStats {
  loss: number;
  pairs: number;
}

export interface DpoStepInfo extends RewardStats {
  step: number;
  loss: number;
  lr: number;
  train?: DpoEval;
  valid?: DpoEval;
}

export interface DpoResult {
  /** Stopped by run.signal before c.steps: checkpoints/latest holds the run; model and eval.json were not written. */
  stopped: boolean;
  /** Updates done. */
  step: number;
  final: DpoStepInfo | null;
  /** Pairs used for training and held-out, after dropping pairs with no response token. */
  trainPairs: number;
  validPairs: number;
  /** Pairs cut to fit maxTokens. */
  truncated: number;
  /** Evaluation before the first update (policy = reference: loss log 2, margins 0 for the sigmoid loss). */
  initial: { train: DpoEval; valid: DpoEval | null };
}

const DPO_STATE_FILE = 'dpo-state.json';
const ADAPTER_DIR = 'adapter';

interface DpoState {
  format: 'llmforge-dpo-state';
  step: number;
  epochRng: { s: number[]; spare: number | null };
  consumed: number;
  mode: 'all' | 'lora';
  loss: DpoConfig['loss'];
  beta: number;
  labelSmoothing: number;
  precision: 'fp32' | 'bf16';
  last: DpoStepInfo | null;
  /** The evaluation before the first update (the resumed run's weights are not the start's any more). */
  initial: DpoResult['initial'];
}

/** A frozen copy of a model's current weights (the reference of a full-weight run). */
export function frozenCopy(model: LanguageModel): LanguageModel {
  const copy = createModel(model.config, { init: false });
  const source = new Map(model.namedParameters());
  for (const [name, p] of copy.namedParameters()) p.data.set(source.get(name)!.data);
  copy.requiresGrad(false);
  return copy.eval();
}

function epochOrder(n: number, B: number, rng: Rng): number[][] {
  const order = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
  const out: number[][] = [];
  for (let i = 0; i < n; i += B) out.push(order.slice(i, i + B));
  return out;
}

/** Splits a (2B) log-probability tensor into chosen (B) and rejected (B). */
function halves(logps: Tensor): [Tensor, Tensor] {
  const B = logps.size / 2;
  return [F.slice(logps, 0, 0, B), F.slice(logps, 0, B, 2 * B)];
}

/** Trains run.model with DPO; GEMMs run in run.precision, the previous precision is restored afterwards. */
export function trainDpo(
  run: DpoRun,
  c: DpoConfig,
  onStep?: (info: DpoStepInfo) => void,
  onNote?: (message: string) => void,
): Promise<DpoResult> {
  const precision = resolvePrecision(run.precision ?? 'fp32');
  return withTrainPrecision(precision.precision, () => trainDpoIn(run, c, precision, onStep, onNote));
}

async function trainDpoIn(
  run: DpoRun,
  c: DpoConfig,
  precision: ResolvedPrecision,
  onStep?: (info: DpoStepInfo) => void,
  onNote?: (message: string) => void,
): Promise<DpoResult> {
  const { model } = run;
  // A new run never overwrites a saved one; a resume reads latest (or latest.prev).
  const resumeFrom = run.out ? claimOutputDir(run.out, run.resume === true, 'dpo') : null;
  if (!run.lora && !run.reference)
    throw new Error('trainDpo: a full-weight run needs a reference model (frozenCopy of the start)');
  const maxTokens = Math.min(run.maxTokens ?? model.config.blockSize + 1, model.config.blockSize + 1);
  const tokenize = (pairs: readonly PreferencePair[]): DpoExample[] =>
    pairs
      .map((p) => tokenizeDpoPair(run.tokenizer, run.template, p, run.eosId, maxTokens))
      .filter((e): e is DpoExample => e !== null);
  const trainEx = tokenize(run.train);
  const validEx = tokenize(run.valid);
  if (trainEx.length === 0)
    throw new UserError(`dpo: none of the ${run.train.length} training pairs has a prompt and a response token`);
  const truncated = [...trainEx, ...validEx].filter((e) => e.chosen.truncated).length;
  if (truncated > 0)
    onNote?.(`${truncated} of ${trainEx.length + validEx.length} pairs cut to ${maxTokens} tokens (prompt first)`);
  const padId = run.eosId;
  const refLogps = (batch: ReturnType<typeof dpoPairBatch>): Float64Array =>
    run.lora
      ? withLoraDisabled(model, () => referenceLogprobs(model, batch))
      : referenceLogprobs(run.reference!, batch);

  const evaluate = (examples: readonly DpoExample[]): DpoEval => {
    const wasTraining = model.training;
    model.eval();
    let loss = 0;
    const chosen: number[] = [];
    const rejected: number[] = [];
    try {
      for (let i = 0; i < examples.length; i += c.batchSize) {
        const group = examples.slice(i, i + c.batchSize);
        const batch = dpoPairBatch(group, padId);
        const ref = refLogps(batch);
        const r = noGrad(() => {
          const [pc, pr] = halves(sequenceLogprobs(model, batch));
          return dpoLoss(pc, pr, ref.subarray(0, group.length), ref.subarray(group.length), c);
        });
        loss += r.loss.data[0]! * group.length;
        chosen.push(...r.chosenRewards);
        rejected.push(...r.rejectedRewards);
      }
    } finally {
      model.train(wasTraining);
    }
    return { loss: loss / examples.length, pairs: examples.length, ...rewardStats(chosen, rejected) };
  };
  const trainEvalEx = trainEx.slice(0, c.trainEvalPairs);

  const params = model.parameters().filter((p) => p.requiresGrad);
  const groups = decayGroups(params);
  const opt = new AdamW(groups, { lr: c.lr, weightDecay: c.weightDecay, beta2: 0.95 });
  const schedule = { kind: 'cosine' as const, lr: c.lr, minLr: c.minLr, warmup: c.warmup, decaySteps: c.steps };
  const metrics = run.out ? new MetricsLog(join(run.out, 'metrics.jsonl')) : null;
  const rng = new Rng(c.seed);
  const ckptDir = run.out ? latestPath(run.out) : null;
  let queue: number[][] = [];
  let epochRng = rng.getState();
  let consumed = 0;
  let start = 0;
  let last: DpoStepInfo | null = null;
  const mode = run.lora ? 'lora' : 'all';
  const resuming = resumeFrom !== null;
  const evaluateStart = (): DpoResult['initial'] => ({
    train: evaluate(trainEvalEx),
    valid: validEx.length > 0 ? evaluate(validEx) : null,
  });
  let initial = resuming ? null : evaluateStart();
  if (resumeFrom !== null) {
    const statePath = join(resumeFrom, DPO_STATE_FILE);
    if (!existsSync(statePath))
      throw new CheckpointError(`${statePath}: missing; ${resumeFrom} is not a DPO checkpoint`);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as DpoState;
    if (state.format !== 'llmforge-dpo-state')
      throw new CheckpointError(`${statePath}: not a DPO run state (format "${String(state.format)}")`);
    if (state.mode !== mode)
      throw new CheckpointError(
        `${statePath}: the run was trained with --train ${state.mode}, this one asks for ${mode}; resume with the same mode or use a new --out`,
      );
    if (state.loss !== c.loss || state.beta !== c.beta || state.labelSmoothing !== c.labelSmoothing) {
      throw new CheckpointError(
        `${statePath}: the run used --loss ${state.loss} --beta ${state.beta} --label-smoothing ${state.labelSmoothing}, this one asks for --loss ${c.loss} --beta ${c.beta} --label-smoothing ${c.labelSmoothing}; resume with the same settings`,
      );
    }
    restoreTrainedWeights(resumeFrom, model, run.lora, ADAPTER_DIR);
    restoreOptimizer(join(resumeFrom, OPTIMIZER_FILE), model, opt);
    if (state.precision !== precision.precision)
      onNote?.(
        `the checkpoint was trained with ${state.precision} matmuls; resuming with ${describePrecision(precision)}`,
      );
    start = state.step;
    rng.setState(state.epochRng);
    epochRng = state.epochRng;
    queue = epochOrder(trainEx.length, c.batchSize, rng).slice(state.consumed);
    consumed = state.consumed;
    last = state.last;
    initial = state.initial ?? null;
    metrics?.truncateAfter(start);
    onNote?.(`resumed from ${resumeFrom} at step ${start}`);
  } else metrics?.truncateAfter(0); // a run that crashed before its first checkpoint left lines of its own
  const start0 = initial ?? evaluateStart(); // a state without it: the start is not known, the resumed weights stand in
  const saveLatest = (step: number): void => {
    if (!ckptDir) return;
    const state: DpoState = {
      format: 'llmforge-dpo-state',
      step,
      epochRng,
      consumed,
      mode,
      loss: c.loss,
      beta: c.beta,
      labelSmoothing: c.labelSmoothing,
      precision: precision.precision,
      last,
      initial: start0,
    };
    replaceDirAtomic(ckptDir, (tmp) => {
      if (run.lora) saveAdapter(join(tmp, ADAPTER_DIR), model, run.lora.targets, run.lora.baseModel);
      else saveModel(tmp, model, { step });
      writeFileAtomic(join(tmp, OPTIMIZER_FILE), serializeOptimizer(model, opt));
      writeJsonAtomic(join(tmp, DPO_STATE_FILE), state);
    });
  };

  model.train();
  const arena = new StorageArena(); // forward and backward reuse the previous step's storage
  let step = start;
  let stopped = false;
  for (; step < c.steps; step++) {
    if (queue.length === 0) {
      epochRng = rng.getState();
      consumed = 0;
      queue = epochOrder(trainEx.length, c.batchSize, rng);
    }
    const group = queue.shift()!.map((i) => trainEx[i]!);
    consumed++;
    const lr = lrAt(step, schedule);
    opt.setLr(lr);
    opt.zeroGrad();
    const batch = dpoPairBatch(group, padId);
    const B = group.length;
    const stats = arena.run(() => {
      const ref = refLogps(batch);
      seedLoraDropout(model, dropoutSeedFor(c.seed, step, 1));
      const [pc, pr] = halves(sequenceLogprobs(model, batch, dropoutSeedFor(c.seed, step, 0)));
      const r = dpoLoss(pc, pr, ref.subarray(0, B), ref.subarray(B), c);
      r.loss.backward();
      return { loss: r.loss.item(), ...rewardStats(r.chosenRewards, r.rejectedRewards) };
    });
    if (c.gradClip > 0) clipGradNorm(params, c.gradClip);
    opt.step();
    const info: DpoStepInfo = { step: step + 1, lr, ...stats };
    const isLast = step + 1 === c.steps;
    stopped = !isLast && (await stopRequested(run.signal));
    if (isLast || (c.evalEvery > 0 && (step + 1) % c.evalEvery === 0)) {
      info.train = evaluate(trainEvalEx);
      if (validEx.length > 0) info.valid = evaluate(validEx);
      last = info;
      saveLatest(step + 1);
    } else if (stopped) saveLatest(step + 1);
    metrics?.append({
      step: info.step,
      lr,
      loss: info.loss,
      'rewards/chosen': info.chosen,
      'rewards/rejected': info.rejected,
      'rewards/accuracy': info.accuracy,
      'rewards/margin': info.margin,
      ...evalFields('train', info.train),
      ...evalFields('val', info.valid),
    });
    onStep?.(info);
    if (stopped) {
      step++;
      break;
    }
  }
  if (stopped) {
    onNote?.(`stopped at step ${step}/${c.steps}; checkpoint saved to ${ckptDir ?? '(no out)'}`);
    return {
      stopped,
      step,
      final: last,
      trainPairs: trainEx.length,
      validPairs: validEx.length,
      truncated,
      initial: start0,
    };
  }
  if (run.out) {
    const { lora } = run;
    replaceDirAtomic(join(run.out, 'model'), (tmp) => {
      saveModel(tmp, lora ? mergedLoraCopy(model) : model, {
        finetune: lora ? 'dpo-lora' : 'dpo',
        template: run.template.name,
        steps: c.steps,
        beta: c.beta,
        loss: c.loss,
      });
      saveTextTokenizer(tmp, run.tokenizer);
    });
    if (lora)
      replaceDirAtomic(join(run.out, ADAPTER_DIR), (tmp) => saveAdapter(tmp, model, lora.targets, lora.baseModel));
    writeJsonAtomic(join(run.out, 'eval.json'), {
      steps: c.steps,
      beta: c.beta,
      loss: c.loss,
      labelSmoothing: c.labelSmoothing,
      initial: start0,
      final: last,
    });
  }
  return {
    stopped,
    step,
    final: last,
    trainPairs: trainEx.length,
    validPairs: validEx.length,
    truncated,
    initial: start0,
  };
}

function evalFields(prefix: string, e: DpoEval | undefined): Record<string, number> {
  if (!e) return {};
  return {
    [`${prefix}/loss`]: e.loss,
    [`${prefix}/rewards/chosen`]: e.chosen,
    [`${prefix}/rewards/rejected`]: e.rejected,
    [`${prefix}/rewards/accuracy`]: e.accuracy,
    [`${prefix}/rewards/margin`]: e.margin,
  };
}
