/**
 * The supervised fine-tuning loop: tokenizes the records with the template (response-only targets, EOS learned),
 * batches them by padding or packing, and runs AdamW with the pretraining schedule (warmup, cosine decay) and
 * gradient clipping, logging metrics.jsonl and evaluating the held-out split (validation loss) as it goes. The
 * fine-tuned model is saved with its tokenizer (`<out>/model`) so `llmforge generate` and `llmforge chat` open it.
 * With LoRA (a model wrapped by attachLora, `run.lora` set) only the adapters train: checkpoints hold the adapter,
 * the optimizer state of A and B and the run state, and the run also writes the adapter alone (`<out>/adapter`,
 * PEFT layout); `<out>/model` is then the merged model. Dropout masks, LoRA's included, are seeded per step.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LanguageModel } from '../models/model.ts';
import { saveModel } from '../models/model-io.ts';
import { AdamW } from '../optim/adamw.ts';
import { clipGradNorm, decayGroups } from '../optim/param-groups.ts';
import { StorageArena } from '../tensor/arena.ts';
import { Rng, shuffleInPlace } from '../tensor/random.ts';
import { saveTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { MetricsLog } from '../train/metrics.ts';
import { lrAt } from '../train/schedule.ts';
import {
  CheckpointError,
  OPTIMIZER_FILE,
  replaceDirAtomic,
  restoreOptimizer,
  serializeOptimizer,
} from '../train/checkpoint.ts';
import { dropoutSeedFor } from '../train/trainer.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { seedLoraDropout } from '../nn/lora.ts';
import {
  describePrecision,
  resolvePrecision,
  withTrainPrecision,
  type PrecisionSetting,
  type ResolvedPrecision,
} from '../train/precision.ts';
import { mergedLoraCopy, restoreTrainedWeights, saveAdapter, type LoraRun } from './lora-finetune.ts';
import { packRows, padSftBatch, stackRows, type SftBatch } from './sft-batch.ts';
import { sftValidationLoss } from './sft-eval.ts';
import type { SftRecord } from '../chat/records.ts';
import { tokenizeRecord, type SftExample } from './sft-tokenize.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import { UserError } from '../util/user-error.ts';
import { claimOutputDir, latestPath, stopRequested } from '../train/run-dir.ts';
import { readStateFile } from '../train/state-file.ts';

export interface SftConfig {
  /** Optimizer updates. */
  steps: number;
  /** Examples (padding) or packed rows (packing) per update. */
  batchSize: number;
  lr: number;
  minLr: number;
  warmup: number;
  weightDecay: number;
  gradClip: number;
  /** Loss on response tokens only (true) or on every token. */
  maskPrompt: boolean;
  /** Pack several examples per row of blockSize tokens instead of padding each. */
  pack: boolean;
  /** Validation loss every this many updates (0: only at the end). */
  evalEvery: number;
  seed: number;
}

export const DEFAULT_SFT_CONFIG: Readonly<SftConfig> = Object.freeze({
  steps: 100, // a few epochs of a small instruction set
  batchSize: 8,
  lr: 1e-4, // fine-tuning: an order below pretraining
  minLr: 1e-5,
  warmup: 10,
  weightDecay: 0.0,
  gradClip: 1.0,
  maskPrompt: true,
  pack: false,
  evalEvery: 50,
  seed: 1337,
});

export interface SftRun {
  model: LanguageModel;
  tokenizer: TextTokenizer;
  template: PromptTemplate;
  eosId: number;
  train: readonly SftRecord[];
  valid: readonly SftRecord[];
  /** Where metrics.jsonl, checkpoints/latest and the final model are written; none: nothing is written. */
  out?: string;
  /**
   * Continue from <out>/checkpoints/latest (or latest.prev) when it exists (same data order, optimizer state and
   * dropout masks); without it, an <out> that already holds a checkpoint is refused (src/train/run-dir.ts).
   */
  resume?: boolean;
  /** Aborted (Ctrl-C): the current update finishes, checkpoints/latest is saved and the result says stopped. */
  signal?: AbortSignal;
  /** Set when `model` carries LoRA layers (attachLora): what they were made with and the base they adapt. */
  lora?: LoraRun;
  /** GEMM precision of the run (src/train/precision.ts; validation runs in it too); default 'fp32'. */
  precision?: PrecisionSetting;
}

const SFT_STATE_FILE = 'sft-state.json';
/** Where a LoRA checkpoint keeps its adapter (PEFT layout). */
const ADAPTER_DIR = 'adapter';

/** What a resumed run needs besides the weights and the optimizer: where it was in the shuffled data. */
interface SftState {
  format: 'llmforge-sft-state';
  step: number;
  /** RNG state before the current epoch's shuffle, and batches of that epoch already used. */
  epochRng: { s: number[]; spare: number | null };
  consumed: number;
  valLoss: number | null;
  /** Training loss of the step that wrote the checkpoint (a resumed finished run reports it). */
  loss?: number | null;
  /** 'lora' when the checkpoint holds an adapter instead of the whole model (absent in older checkpoints: 'all'). */
  mode?: 'all' | 'lora';
  /** The GEMM precision the run trained in (absent before the setting existed: fp32). */
  precision?: 'fp32' | 'bf16';
}

export interface SftStepInfo {
  step: number;
  loss: number;
  lr: number;
  valLoss?: number;
}

export function tokenizeSftRecords(
  run: Pick<SftRun, 'model' | 'tokenizer' | 'template' | 'eosId'>,
  records: readonly SftRecord[],
  maskPrompt: boolean,
): SftExample[] {
  const maxLen = run.model.config.blockSize;
  // An example cut before its response has nothing to learn (every target -100): it is dropped.
  return records
    .map((r) => tokenizeRecord(run.tokenizer, run.template, r, { eosId: run.eosId, maskPrompt, maxLen }))
    .filter((e) => e.targets.some((t) => t !== -100));
}

/** Batches of one epoch in a seeded shuffled order. */
function epochBatches(examples: readonly SftExample[], c: SftConfig, T: number, padId: number, rng: Rng): SftBatch[] {
  const order = shuffleInPlace(
    examples.map((_, i) => i),
    rng,
  );
  const shuffled = order.map((i) => examples[i]!);
  if (c.pack) return stackRows(packRows(shuffled, T, padId), c.batchSize);
  const out: SftBatch[] = [];
  for (let i = 0; i < shuffled.length; i += c.batchSize)
    out.push(padSftBatch(shuffled.slice(i, i + c.batchSize), padId));
  return out;
}

export interface SftTrainResult {
  finalLoss: number;
  valLoss: number;
  /** Updates done (c.steps unless stopped). */
  step: number;
  /** Stopped by run.signal before c.steps: checkpoints/latest holds the run, <out>/model was not written. */
  stopped: boolean;
}

/** Fine-tunes run.model on the records; GEMMs run in run.precision, the previous precision is restored afterwards. */
export function trainSft(
  run: SftRun,
  c: SftConfig,
  onStep?: (info: SftStepInfo) => void,
  onNote?: (message: string) => void,
): Promise<SftTrainResult> {
  const precision = resolvePrecision(run.precision ?? 'fp32');
  return withTrainPrecision(precision.precision, () => trainSftIn(run, c, precision, onStep, onNote));
}

async function trainSftIn(
  run: SftRun,
  c: SftConfig,
  precision: ResolvedPrecision,
  onStep?: (info: SftStepInfo) => void,
  onNote?: (message: string) => void,
): Promise<SftTrainResult> {
  const { model } = run;
  // A new run never overwrites a saved one; a resume reads latest (or latest.prev).
  const resumeFrom = run.out ? claimOutputDir(run.out, run.resume === true, 'finetune sft') : null;
  const trainEx = tokenizeSftRecords(run, run.train, c.maskPrompt);
  if (trainEx.length === 0) {
    throw new UserError(
      `finetune sft: none of the ${run.train.length} training records has a response token within the context length ${model.config.blockSize} (see --preview)`,
    );
  }
  if (trainEx.length < run.train.length)
    onNote?.(
      `${run.train.length - trainEx.length} of ${run.train.length} records dropped: their response starts past the context length ${model.config.blockSize}`,
    );
  const validEx = tokenizeSftRecords(run, run.valid, true);
  const padId = run.eosId;
  const params = model.parameters().filter((p) => p.requiresGrad);
  const groups = decayGroups(params);
  const opt = new AdamW(groups, { lr: c.lr, weightDecay: c.weightDecay, beta2: 0.95 });
  const schedule = { kind: 'cosine' as const, lr: c.lr, minLr: c.minLr, warmup: c.warmup, decaySteps: c.steps };
  const metrics = run.out ? new MetricsLog(join(run.out, 'metrics.jsonl')) : null;
  const rng = new Rng(c.seed);
  let queue: SftBatch[] = [];
  let epochRng = rng.getState();
  let consumed = 0;
  let lastLoss = Number.NaN;
  let valLoss = Number.NaN;
  let start = 0;
  const ckptDir = run.out ? latestPath(run.out) : null;
  if (resumeFrom !== null) {
    const statePath = join(resumeFrom, SFT_STATE_FILE);
    if (!existsSync(statePath))
      throw new CheckpointError(`${statePath}: missing; ${resumeFrom} is not an SFT checkpoint`);
    const state = readStateFile(statePath, 'an SFT run state', 'llmforge-sft-state', {
      step: 'count',
      epochRng: 'rng',
      consumed: 'count',
      valLoss: 'number?',
      loss: 'number?',
    }) as unknown as SftState;
    const mode = state.mode ?? 'all';
    if (mode !== (run.lora ? 'lora' : 'all'))
      throw new CheckpointError(
        `${statePath}: the run was trained with --train ${mode}, this one asks for ${run.lora ? 'lora' : 'all'}; resume with the same mode or use a new --out`,
      );
    restoreTrainedWeights(resumeFrom, model, run.lora, ADAPTER_DIR);
    restoreOptimizer(join(resumeFrom, OPTIMIZER_FILE), model, opt);
    if ((state.precision ?? 'fp32') !== precision.precision)
      onNote?.(
        `the checkpoint was trained with ${state.precision ?? 'fp32'} matmuls; resuming with ${describePrecision(precision)}`,
      );
    start = state.step;
    rng.setState(state.epochRng);
    epochRng = state.epochRng;
    queue = epochBatches(trainEx, c, model.config.blockSize, padId, rng).slice(state.consumed);
    consumed = state.consumed;
    valLoss = state.valLoss ?? Number.NaN;
    lastLoss = state.loss ?? Number.NaN;
    metrics?.truncateAfter(start);
    onNote?.(`resumed from ${resumeFrom} at step ${start}`);
  } else metrics?.truncateAfter(0); // a run that crashed before its first checkpoint left lines of its own

  const saveLatest = (step: number): void => {
    if (!ckptDir) return;
    const state: SftState = {
      format: 'llmforge-sft-state',
      step,
      epochRng,
      consumed,
      valLoss: Number.isNaN(valLoss) ? null : valLoss,
      loss: Number.isNaN(lastLoss) ? null : lastLoss,
      mode: run.lora ? 'lora' : 'all',
      precision: precision.precision,
    };
    replaceDirAtomic(ckptDir, (tmp) => {
      if (run.lora) saveAdapter(join(tmp, ADAPTER_DIR), model, run.lora.targets, run.lora.baseModel);
      else saveModel(tmp, model, { step });
      writeFileAtomic(join(tmp, OPTIMIZER_FILE), serializeOptimizer(model, opt));
      writeJsonAtomic(join(tmp, SFT_STATE_FILE), state);
    });
  };
  const arena = new StorageArena(); // forward and backward reuse the previous step's storage
  let step = start;
  let stopped = false;
  for (; step < c.steps; step++) {
    if (queue.length === 0) {
      epochRng = rng.getState();
      consumed = 0;
      queue = epochBatches(trainEx, c, model.config.blockSize, padId, rng);
    }
    const batch = queue.shift()!;
    consumed++;
    const lr = lrAt(step, schedule);
    opt.setLr(lr);
    opt.zeroGrad();
    const dropoutSeed = dropoutSeedFor(c.seed, step, 0);
    seedLoraDropout(model, dropoutSeedFor(c.seed, step, 1));
    lastLoss = arena.run(() => {
      const { loss } = model.forward(
        batch.ids,
        batch.B,
        batch.T,
        batch.targets,
        batch.segments ? { segments: batch.segments, dropoutSeed } : { dropoutSeed },
      );
      loss!.backward();
      return loss!.item();
    });
    if (c.gradClip > 0) clipGradNorm(params, c.gradClip);
    opt.step();
    const info: SftStepInfo = { step: step + 1, loss: lastLoss, lr };
    const last = step + 1 === c.steps;
    stopped = !last && (await stopRequested(run.signal));
    if (last || (c.evalEvery > 0 && (step + 1) % c.evalEvery === 0)) {
      if (validEx.length > 0) {
        valLoss = sftValidationLoss(model, validEx, c.batchSize, padId);
        info.valLoss = valLoss;
      }
      saveLatest(step + 1);
    } else if (stopped) saveLatest(step + 1);
    metrics?.append({
      step: info.step,
      loss: info.loss,
      lr,
      ...(info.valLoss !== undefined ? { val_loss: info.valLoss } : {}),
    });
    onStep?.(info);
    if (stopped) {
      step++;
      break;
    }
  }
  if (stopped) {
    onNote?.(`stopped at step ${step}/${c.steps}; checkpoint saved to ${ckptDir ?? '(no --out)'}`);
    return { finalLoss: lastLoss, valLoss, step, stopped };
  }
  if (run.out) {
    const { lora } = run;
    replaceDirAtomic(join(run.out, 'model'), (tmp) => {
      saveModel(tmp, lora ? mergedLoraCopy(model) : model, {
        finetune: lora ? 'sft-lora' : 'sft',
        template: run.template.name,
        steps: c.steps,
      });
      saveTextTokenizer(tmp, run.tokenizer);
    });
    if (lora)
      replaceDirAtomic(join(run.out, ADAPTER_DIR), (tmp) => saveAdapter(tmp, model, lora.targets, lora.baseModel));
  }
  return { finalLoss: lastLoss, valLoss, step, stopped };
}
