/**
 * Reward-model training: reads preference pairs, holds out a seeded share of them, renders both sides of each pair
 * with the prompt template, and trains a RewardModel on a pretrained base with AdamW under the Bradley-Terry loss,
 * the chosen and rejected sides of a pair in the same batch (all parameters, the last k blocks plus the final norm,
 * the head only, or LoRA adapters plus the head, as classification fine-tuning). Every `evalEvery` steps and at each
 * epoch's end it scores the held-out pairs (loss, pairwise accuracy, mean chosen and rejected reward, mean margin),
 * appends them to `<out>/metrics.jsonl`, writes `<out>/checkpoints/latest` (reward model, or with LoRA only the
 * adapter and head; optimizer moments; state) and, on a better held-out accuracy, `<out>/checkpoints/best` (with
 * LoRA the merged model, and the adapter alone in `<out>/adapter`). A rerun with `resume` continues from latest:
 * batches come from a per-epoch permutation fixed by the seed and dropout masks are seeded per step, so a resumed
 * run ends with the same weights and metrics as one run straight.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../ops/index.ts';
import { AdamW } from '../optim/adamw.ts';
import { clipGradNorm } from '../optim/param-groups.ts';
import { StorageArena } from '../tensor/arena.ts';
import { Rng, permutation } from '../tensor/random.ts';
import { loadModelDir } from '../generate/model-dir.ts';
import { eosId, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { replaceDirAtomic, serializeOptimizer } from '../train/checkpoint.ts';
import { claimOutputDir, latestPath, stopRequested } from '../train/run-dir.ts';
import { MetricsLog } from '../train/metrics.ts';
import {
  describePrecision,
  resolvePrecision,
  withTrainPrecision,
  type PrecisionSetting,
  type ResolvedPrecision,
} from '../train/precision.ts';
import { dropoutSeedFor } from '../train/trainer.ts';
import { seedLoraDropout } from '../nn/lora.ts';
import { Progress } from '../util/progress.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { padBatch } from '../finetune/classify-data.ts';
import { restoreOptimizer, setTrainable, type TrainMode } from '../finetune/classify-train.ts';
import {
  attachLora,
  DEFAULT_LORA,
  formatTrainable,
  mergedLoraCopy,
  restoreLoraAdapter,
  saveAdapter,
  type LoraSettings,
} from '../finetune/lora-finetune.ts';
import { loadPreferencePairs, type PreferencePair } from '../finetune/preference-data.ts';
import { resolveTemplate, type PromptTemplate } from '../chat/templates.ts';
import { bradleyTerryLoss } from './reward-loss.ts';
import {
  encodeForReward,
  loadRewardHeadInto,
  REWARD_HEAD_FILE,
  RewardModel,
  RewardModelError,
  rewardsOf,
  saveRewardHead,
  saveRewardModel,
  type RewardInfo,
} from './reward-model.ts';

export interface RewardTrainOptions {
  /** Preference pairs (JSON array or JSONL; src/finetune/preference-data.ts). */
  data: string;
  /** Pretrained base: a model directory or a training run directory. */
  base: string;
  out: string;
  mode: TrainMode;
  /** Blocks trained with mode 'last-k'. */
  lastK: number;
  /** Adapter settings of mode 'lora' (default: DEFAULT_LORA). */
  lora?: LoraSettings;
  /** Prompt template: alpaca, chatml or model. */
  template: string;
  /** Longest token row (at most the context length); longer renderings keep their last tokens. */
  maxLength: number;
  /** Held-out share of the pairs. */
  valFrac: number;
  epochs: number;
  /** Pairs per step (2 x batchSize rows). */
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Bradley-Terry margin: the chosen reward should lead by this much. */
  margin: number;
  /** Held-out evaluation every this many steps, besides each epoch's end (0: at epoch ends only). */
  evalEvery: number;
  seed: number;
  resume: boolean;
  /** GEMM precision of the run (src/train/precision.ts; evaluation runs in it too); default 'fp32'. */
  precision?: PrecisionSetting;
  /** Stop after this many optimizer steps in this call (tests of resume); default: no limit. */
  maxSteps?: number;
  /** Aborted (Ctrl-C): the current update finishes, checkpoints/latest is saved and the result says stopped. */
  signal?: AbortSignal;
  quiet?: boolean;
  log?: (line: string) => void;
}

/** Held-out scores of a reward model on preference pairs. */
export interface PairMetrics {
  pairs: number;
  /** Mean Bradley-Terry loss (with the run's margin). */
  loss: number;
  /** Share of pairs whose chosen reward is strictly higher. */
  accuracy: number;
  meanChosen: number;
  meanRejected: number;
  /** Mean of r_chosen - r_rejected. */
  margin: number;
}

export interface RewardTrainResult {
  /** Stopped by the signal before the last step: checkpoints/latest holds the run. */
  stopped: boolean;
  steps: number;
  /** Updates done (= steps). */
  step: number;
  val: PairMetrics | null;
  bestValAccuracy: number | null;
  trainable: number;
  total: number;
  /** The reward model as trained (with LoRA: the wrapped base, adapters not merged). */
  model: RewardModel;
}

const STATE = 'reward-state.json';
const OPT = 'optimizer.safetensors';
/** Where a LoRA checkpoint keeps its adapter (PEFT layout). */
const ADAPTER_DIR = 'adapter';

interface EncodedPair {
  chosen: number[];
  rejected: number[];
}

interface SavedState {
  format: 'llmforge-reward-state';
  step: number;
  bestValAccuracy: number | null;
  /** Training-loss sum and count since the last metrics record (a run stopped part-way carries them over). */
  lossSum: number;
  lossN: number;
  precision: 'fp32' | 'bf16';
  options: Record<string, unknown>;
}

/** -log sigmoid(d - margin) for one pair, stable for any d. */
function pairLoss(d: number, margin: number): number {
  const x = d - margin;
  return x >= 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
}

/** Loss, pairwise accuracy and mean rewards of `rm` on token-row pairs (no autograd). */
export function scorePairs(
  rm: RewardModel,
  pairs: readonly EncodedPair[],
  margin: number,
  batchSize = 32,
): PairMetrics {
  const rc = rewardsOf(
    rm,
    pairs.map((p) => p.chosen),
    batchSize,
  );
  const rr = rewardsOf(
    rm,
    pairs.map((p) => p.rejected),
    batchSize,
  );
  const n = pairs.length;
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(n, 1);
  const d = rc.map((c, i) => c - rr[i]!);
  return {
    pairs: n,
    loss: mean(d.map((x) => pairLoss(x, margin))),
    accuracy: d.filter((x) => x > 0).length / Math.max(n, 1),
    meanChosen: mean(rc),
    meanRejected: mean(rr),
    margin: mean(d),
  };
}

/** The metrics fields of one evaluation, prefixed (val_loss, val_accuracy, ...). */
function metricFields(m: PairMetrics, prefix: string): Record<string, number> {
  return {
    [`${prefix}_loss`]: m.loss,
    [`${prefix}_accuracy`]: m.accuracy,
    [`${prefix}_reward_chosen`]: m.meanChosen,
    [`${prefix}_reward_rejected`]: m.meanRejected,
    [`${prefix}_margin`]: m.margin,
  };
}

export function formatPairMetrics(m: PairMetrics): string {
  return `loss ${m.loss.toFixed(4)} | pairwise accuracy ${(m.accuracy * 100).toFixed(2)}% of ${m.pairs} | reward chosen ${m.meanChosen.toFixed(3)}, rejected ${m.meanRejected.toFixed(3)}, margin ${m.margin.toFixed(3)}`;
}

/** Seeded split of the pairs: the last round(n * valFrac) of a shuffled order are held out. */
export function splitPairs<T>(pairs: readonly T[], valFrac: number, seed: number): { train: T[]; val: T[] } {
  const order = permutation(pairs.length, seed);
  const nVal = Math.round(pairs.length * valFrac);
  const cut = pairs.length - nVal;
  return { train: order.slice(0, cut).map((i) => pairs[i]!), val: order.slice(cut).map((i) => pairs[i]!) };
}

function encodePairs(
  tok: TextTokenizer,
  template: PromptTemplate,
  pairs: readonly PreferencePair[],
  info: RewardInfo,
): { encoded: EncodedPair[]; truncated: number } {
  let truncated = 0;
  const encoded = pairs.map((p) => {
    const c = encodeForReward(tok, template, p.chosen, info);
    const r = encodeForReward(tok, template, p.rejected, info);
    if (c.truncated || r.truncated) truncated++;
    return { chosen: c.ids, rejected: r.ids };
  });
  return { encoded, truncated };
}

export async function trainRewardModel(o: RewardTrainOptions): Promise<RewardTrainResult> {
  const precision = resolvePrecision(o.precision ?? 'fp32');
  return withTrainPrecision(precision.precision, () => trainIn(o, precision));
}

async function trainIn(o: RewardTrainOptions, precision: ResolvedPrecision): Promise<RewardTrainResult> {
  const log = o.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  // A new run never overwrites a saved one; a resume reads latest (or latest.prev, left by a crash mid-save).
  const from = claimOutputDir(o.out, o.resume, 'reward train');
  const latest = latestPath(o.out);
  const best = join(o.out, 'checkpoints', 'best');
  const lora = o.mode === 'lora' ? (o.lora ?? DEFAULT_LORA) : null;
  const resuming = from !== null;
  const ckpt = from ?? latest; // what a resume reads
  if (resuming && !existsSync(join(ckpt, STATE)))
    throw new RewardModelError(`${join(ckpt, STATE)}: missing; ${ckpt} is not a reward-model checkpoint`);
  // A LoRA checkpoint holds only the adapter and head: the base comes from `base` again.
  const { model: base, tokenizer, modelDir, tokenizerDir } = loadModelDir(resuming && !lora ? ckpt : o.base);
  const template = resolveTemplate(o.template, o.template === 'model' ? tokenizerDir : modelDir);
  const { pairs, identical } = loadPreferencePairs(o.data);
  const split = splitPairs(pairs, o.valFrac, o.seed);
  if (split.train.length === 0)
    throw new RewardModelError(
      `reward train: ${o.data}: no training pairs left after holding out ${split.val.length} (lower --val-frac)`,
    );
  const eos = eosId(tokenizer);
  const info: RewardInfo = {
    template: template.name === 'alpaca' || template.name === 'chatml' ? template.name : 'model',
    maxLength: Math.min(o.maxLength, base.config.blockSize),
    padId: eos ?? 0,
    eosId: eos ?? null,
  };
  const train = encodePairs(tokenizer, template, split.train, info);
  const val = encodePairs(tokenizer, template, split.val, info);
  const cut = train.truncated + val.truncated;
  log(
    `data ${pairs.length} pairs${identical > 0 ? ` (${identical} with identical responses left out)` : ''}: train ${split.train.length}, held out ${split.val.length}; template ${info.template}, max length ${info.maxLength} tokens${cut > 0 ? ` (${cut} pairs longer, cut from the left)` : ''}`,
  );

  const rm = new RewardModel(base, info, new Rng(o.seed));
  const attached = lora ? attachLora(base, lora, o.seed + 101) : null;
  let step = 0;
  let bestValAccuracy: number | null = null;
  let lossSum = 0;
  let lossN = 0;
  if (resuming) {
    const st = JSON.parse(readFileSync(join(ckpt, STATE), 'utf8')) as SavedState;
    if (st.format !== 'llmforge-reward-state')
      throw new RewardModelError(`${join(ckpt, STATE)}: not a reward-model run state (format "${String(st.format)}")`);
    if (st.options.mode !== o.mode)
      throw new RewardModelError(
        `${join(ckpt, STATE)}: the run was trained with --train ${String(st.options.mode)}, this one asks for ${o.mode}; resume with the same mode or use a new --out`,
      );
    if (lora && attached) restoreLoraAdapter(join(ckpt, ADAPTER_DIR), base, lora, attached.targets);
    loadRewardHeadInto(join(ckpt, REWARD_HEAD_FILE), rm);
    if (st.precision !== precision.precision)
      log(
        `note: the checkpoint was trained with ${st.precision} matmuls; resuming with ${describePrecision(precision)}`,
      );
    step = st.step;
    bestValAccuracy = st.bestValAccuracy;
    lossSum = st.lossSum;
    lossN = st.lossN;
  }
  setTrainable(rm, o.mode, o.lastK);
  const params = rm.parameters().filter((p) => p.requiresGrad);
  const trainable = params.reduce((s, p) => s + p.size, 0);
  const total = rm.numParameters();
  const how =
    o.mode === 'last-k'
      ? ` (k=${o.lastK})`
      : lora && attached
        ? ` (r ${lora.r}, alpha ${lora.alpha}, dropout ${lora.dropout} on ${attached.summary.modules.length} linears: ${attached.targets.join(', ')}; + head)`
        : '';
  log(
    `training ${o.mode}${how}: ${formatTrainable(trainable, total)}, Bradley-Terry loss${o.margin !== 0 ? ` with margin ${o.margin}` : ''}, ${describePrecision(precision)}`,
  );
  const opt = new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay });
  if (resuming && existsSync(join(ckpt, OPT))) restoreOptimizer(join(ckpt, OPT), rm, opt);
  mkdirSync(o.out, { recursive: true });
  const metrics = new MetricsLog(join(o.out, 'metrics.jsonl'));
  if (resuming) {
    metrics.truncateAfter(step);
    log(`resuming from ${ckpt} at step ${step}`);
  } else metrics.truncateAfter(0); // a run that crashed before its first checkpoint left lines of its own

  const perEpoch = Math.ceil(train.encoded.length / o.batchSize);
  const totalSteps = o.epochs * perEpoch;
  const stopAt = Math.min(totalSteps, o.maxSteps === undefined ? Infinity : step + o.maxSteps);
  const progress = new Progress({ label: 'reward', total: totalSteps, unit: 'steps', silent: o.quiet ?? false });
  const saveLatest = (): void => {
    replaceDirAtomic(latest, (dir) => {
      if (attached) {
        saveAdapter(join(dir, ADAPTER_DIR), base, attached.targets, o.base);
        saveRewardHead(join(dir, REWARD_HEAD_FILE), rm);
      } else saveRewardModel(dir, rm, tokenizer);
      writeJsonAtomic(join(dir, STATE), {
        format: 'llmforge-reward-state',
        step,
        bestValAccuracy,
        lossSum,
        lossN,
        precision: precision.precision,
        options: { ...o, log: undefined },
      } satisfies SavedState);
      writeFileAtomic(join(dir, OPT), serializeOptimizer(rm, opt));
    });
  };
  const saveBest = (): void => {
    if (!attached) {
      replaceDirAtomic(best, (dir) => saveRewardModel(dir, rm, tokenizer));
      return;
    }
    replaceDirAtomic(best, (dir) => saveRewardModel(dir, rm, tokenizer, mergedLoraCopy(base)));
    replaceDirAtomic(join(o.out, ADAPTER_DIR), (dir) => {
      saveAdapter(dir, base, attached.targets, o.base);
      saveRewardHead(join(dir, REWARD_HEAD_FILE), rm);
    });
  };
  let valMetrics: PairMetrics | null = null;
  let stopped = false;
  rm.train();
  const arena = new StorageArena(); // forward and backward reuse the previous step's storage
  while (step < stopAt) {
    const epoch = Math.floor(step / perEpoch);
    const order = permutation(train.encoded.length, o.seed * 7919 + epoch);
    const at = (step % perEpoch) * o.batchSize;
    const batch = order.slice(at, at + o.batchSize).map((i) => train.encoded[i]!);
    const n = batch.length;
    // Rows 0..n-1 are the chosen sides, n..2n-1 the rejected ones of the same pairs.
    const { ids, lengths, T } = padBatch([...batch.map((p) => p.chosen), ...batch.map((p) => p.rejected)], info.padId);
    seedLoraDropout(base, dropoutSeedFor(o.seed, step, 1));
    const lossValue = arena.run(() => {
      const r = rm.forward(ids, 2 * n, T, lengths, dropoutSeedFor(o.seed, step, 0)); // (2n)
      const loss = bradleyTerryLoss(F.slice(r, 0, 0, n), F.slice(r, 0, n, 2 * n), o.margin);
      loss.backward();
      return loss.item();
    });
    clipGradNorm(params, 1.0);
    opt.step();
    opt.zeroGrad();
    lossSum += lossValue;
    lossN++;
    step++;
    progress.update(step);
    stopped = step < totalSteps && (await stopRequested(o.signal));
    const evalNow = step % perEpoch === 0 || step === totalSteps || (o.evalEvery > 0 && step % o.evalEvery === 0);
    if (evalNow) {
      valMetrics = val.encoded.length > 0 ? scorePairs(rm, val.encoded, o.margin) : null;
      metrics.append({
        step,
        epoch: step / perEpoch,
        train_loss: lossSum / lossN,
        ...(valMetrics ? metricFields(valMetrics, 'val') : {}),
      });
      log(
        `step ${step}/${totalSteps}: train loss ${(lossSum / lossN).toFixed(4)}${valMetrics ? ` | held out: ${formatPairMetrics(valMetrics)}` : ''}`,
      );
      lossSum = 0;
      lossN = 0;
      const acc = valMetrics?.accuracy ?? null;
      if (bestValAccuracy === null || (acc !== null && acc > bestValAccuracy) || !existsSync(best)) {
        bestValAccuracy = acc ?? bestValAccuracy;
        saveBest();
      }
      saveLatest();
    } else if (step === stopAt || stopped) {
      saveLatest(); // stopped between evaluations: the loss sum carries over to the resumed run
      log(`stopped at step ${step}/${totalSteps}; continue with resume`);
    }
    if (stopped) break;
  }
  progress.finish(step);
  if (step >= totalSteps)
    log(
      `done: ${step} steps; best held-out pairwise accuracy ${bestValAccuracy === null ? 'n/a' : `${(bestValAccuracy * 100).toFixed(2)}%`} in ${best}`,
    );
  return { stopped, steps: step, step, val: valMetrics, bestValAccuracy, trainable, total, model: rm };
}
