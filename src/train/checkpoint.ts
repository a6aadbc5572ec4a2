/**
 * Training checkpoints: a directory (`<out>/checkpoints/latest/` or `best/`) holding the model (config.json +
 * model.safetensors, via saveModel), the AdamW moments and step counts per parameter name (optimizer.safetensors),
 * the run state (state.json: resolved config, step, best validation loss, the data sampler's RNG state, library
 * version) and the tokenizer when known. A checkpoint is written into a fresh temporary directory, flushed, and
 * renamed over the old one (kept as `<name>.prev` until the new one is in place), so a crash or Ctrl-C never
 * leaves a torn checkpoint. Loading checks every file and fails with an error naming the file, never silently.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSafetensors, serializeSafetensors } from '../io/safetensors.ts';
import type { ModelConfig, LanguageModel } from '../models/model.ts';
import { CONFIG_FILE, loadModel, readModelConfig, saveModel, WEIGHTS_FILE } from '../models/model-io.ts';
import type { MatmulPrecision } from '../ops/matmul-precision.ts';
import type { Module } from '../nn/module.ts';
import type { AdamW } from '../optim/adamw.ts';
import { formatShape } from '../tensor/shape.ts';
import { saveTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import type { TrainConfig } from './config.ts';
import { UserError } from '../util/user-error.ts';
import { rngStateProblem } from '../tensor/random.ts';

export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FILE = 'state.json';
export const TOKENIZER_DIR = 'tokenizer';
const FORMAT = 'llmforge-train-state';

/** Everything besides tensors that a bit-identical resume needs, saved as state.json. */
export interface RunState {
  format: typeof FORMAT;
  /** llmforge version that wrote the checkpoint. */
  library: string;
  /** Optimizer updates completed. */
  step: number;
  /** Lowest validation loss seen so far (null before the first evaluation). */
  bestValLoss: number | null;
  /** State of the data sampler's RNG after `step` updates. */
  dataRng: { s: number[]; spare: number | null };
  /** The resolved training config. */
  config: TrainConfig;
  /** The GEMM precision the run trained in (config.precision resolved); absent in checkpoints before it existed (fp32). */
  precision?: MatmulPrecision;
  /** The model config (also in config.json). */
  model: ModelConfig;
  /** How the run was set up (data directory, preset, overrides, init-from): recorded, not interpreted. */
  run: Record<string, unknown>;
  savedAt: string;
}

export class CheckpointError extends UserError {}

let counter = 0;

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces directory `target` with one filled by `fill(tmpDir)`: the new directory is complete and flushed before
 * it takes the name, and the previous one is kept as `<target>.prev` until then.
 */
export function replaceDirAtomic(target: string, fill: (dir: string) => void): void {
  const parent = dirname(target);
  const name = basename(target);
  mkdirSync(parent, { recursive: true });
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(`.${name}.tmp-`)) rmSync(join(parent, entry), { recursive: true, force: true }); // left by a crash
  }
  const tmp = join(parent, `.${name}.tmp-${process.pid}-${counter++}`);
  mkdirSync(tmp);
  try {
    fill(tmp);
    fsyncPath(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const prev = join(parent, `${name}.prev`);
  if (existsSync(target)) {
    rmSync(prev, { recursive: true, force: true });
    renameSync(target, prev);
  }
  renameSync(tmp, target);
  fsyncPath(parent);
  rmSync(prev, { recursive: true, force: true });
}

/** Writes a checkpoint directory: model, optional optimizer state, run state, optional tokenizer. */
export function saveCheckpoint(
  dir: string,
  parts: {
    model: LanguageModel;
    optimizer: AdamW | null;
    state: RunState;
    tokenizer?: TextTokenizer | null | undefined;
  },
): void {
  replaceDirAtomic(dir, (tmp) => {
    saveModel(tmp, parts.model, { step: parts.state.step });
    if (parts.optimizer) writeFileAtomic(join(tmp, OPTIMIZER_FILE), serializeOptimizer(parts.model, parts.optimizer));
    if (parts.tokenizer) {
      mkdirSync(join(tmp, TOKENIZER_DIR));
      saveTextTokenizer(join(tmp, TOKENIZER_DIR), parts.tokenizer);
    }
    writeJsonAtomic(join(tmp, STATE_FILE), parts.state);
  });
}

/** AdamW's first and second moments per parameter name (PyTorch's exp_avg / exp_avg_sq) and step counts. */
export function serializeOptimizer(model: Pick<Module, 'namedParameters'>, opt: AdamW): Uint8Array {
  const tensors: [string, { shape: readonly number[]; data: ArrayLike<number> }][] = [];
  const steps: Record<string, number> = {};
  for (const [name, p] of model.namedParameters()) {
    const s = opt.state.get(p);
    if (!s) continue;
    tensors.push(
      [`${name}.exp_avg`, { shape: p.shape, data: s.m }],
      [`${name}.exp_avg_sq`, { shape: p.shape, data: s.v }],
    );
    steps[name] = s.step;
  }
  return serializeSafetensors(tensors, { format: 'llmforge-adamw', steps: JSON.stringify(steps) });
}

/** Restores AdamW moments saved by serializeOptimizer into `opt` for `model`'s parameters; errors name the file. */
export function restoreOptimizer(path: string, model: Pick<Module, 'namedParameters'>, opt: AdamW): void {
  const file = readSafetensors(path);
  let steps: Record<string, number>;
  try {
    steps = JSON.parse(file.metadata.steps ?? 'null') as Record<string, number>;
  } catch {
    throw new CheckpointError(`${path}: metadata "steps" is not valid JSON`);
  }
  if (file.metadata.format !== 'llmforge-adamw' || typeof steps !== 'object' || steps === null) {
    throw new CheckpointError(
      `${path}: not an llmforge AdamW state (expected metadata format "llmforge-adamw" with per-parameter steps)`,
    );
  }
  const params = new Map(model.namedParameters());
  for (const name of Object.keys(steps)) {
    if (!params.has(name))
      throw new CheckpointError(`${path}: state for "${name}", which is not a parameter of this model`);
  }
  opt.state.clear();
  for (const [name, p] of params) {
    const step = steps[name];
    if (step === undefined) {
      if (p.requiresGrad && Object.keys(steps).length > 0)
        throw new CheckpointError(`${path}: no optimizer state for parameter "${name}"`);
      continue;
    }
    const take = (key: string): Float32Array => {
      const t = file.tensors.get(key);
      if (!t) throw new CheckpointError(`${path}: tensor "${key}" is missing`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new CheckpointError(
          `${path}: tensor "${key}" has shape ${formatShape(t.shape)}, expected ${formatShape(p.shape)}`,
        );
      }
      return t.data;
    };
    const m = take(`${name}.exp_avg`);
    const v = take(`${name}.exp_avg_sq`);
    if (!(Number.isInteger(step) && step > 0))
      throw new CheckpointError(`${path}: step count of "${name}" must be a positive integer, received ${step}`);
    const conv = (a: Float32Array) => (p.data instanceof Float32Array ? a : Float64Array.from(a));
    opt.state.set(p, { m: conv(m), v: conv(v), step });
  }
}

/** Reads and checks state.json of a checkpoint directory. */
export function readRunState(dir: string): RunState {
  const path = join(dir, STATE_FILE);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new CheckpointError(`${path}: cannot read the run state (${why})`);
  }
  const s = doc as Partial<RunState>;
  if (s.format !== FORMAT)
    throw new CheckpointError(`${path}: expected "format": "${FORMAT}", received ${JSON.stringify(s.format)}`);
  if (!(Number.isInteger(s.step) && s.step! >= 0))
    throw new CheckpointError(`${path}: "step" must be a non-negative integer, received ${JSON.stringify(s.step)}`);
  const rngProblem = rngStateProblem(s.dataRng);
  if (rngProblem !== undefined) throw new CheckpointError(`${path}: "dataRng" is not an RNG state: ${rngProblem}`);
  if (typeof s.config !== 'object' || s.config === null)
    throw new CheckpointError(`${path}: "config" (the training config) is missing`);
  if (s.bestValLoss !== null && typeof s.bestValLoss !== 'number')
    throw new CheckpointError(`${path}: "bestValLoss" must be a number or null`);
  return s as RunState;
}

/** The fields where two model configs differ, as `field: a vs b` strings. */
export function configDiff(a: ModelConfig, b: ModelConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ModelConfig>;
  return [...keys].filter((k) => a[k] !== b[k]).map((k) => `${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`);
}

export interface LoadedCheckpoint {
  dir: string;
  model: LanguageModel;
  state: RunState;
}

/**
 * Opens a checkpoint for resuming: every file must be present, the model config must equal `expected` (when
 * given), and the weights load with their shapes checked. The optimizer state is restored separately
 * (restoreOptimizer), once the optimizer exists.
 */
export function loadCheckpoint(dir: string, expected?: ModelConfig): LoadedCheckpoint {
  if (!existsSync(dir)) {
    const prev = `${dir}.prev`;
    if (existsSync(prev))
      dir = prev; // a crash between the two renames of replaceDirAtomic
    else
      throw new CheckpointError(
        `${dir}: no checkpoint to resume from (start without --resume, or point --out at the run's directory)`,
      );
  }
  for (const f of [CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE, STATE_FILE]) {
    if (!existsSync(join(dir, f))) {
      throw new CheckpointError(
        `${join(dir, f)}: missing; the checkpoint is incomplete (expected ${CONFIG_FILE}, ${WEIGHTS_FILE}, ${OPTIMIZER_FILE} and ${STATE_FILE})`,
      );
    }
  }
  const state = readRunState(dir);
  const { config } = readModelConfig(dir);
  if (expected) {
    const diff = configDiff(config, expected);
    if (diff.length > 0) {
      throw new CheckpointError(
        `${join(dir, CONFIG_FILE)}: the checkpoint's model differs from the requested one (checkpoint vs requested: ${diff.join(', ')}); resume with the original model settings or start a new --out`,
      );
    }
  }
  return { dir, model: loadModel(dir), state };
}
