/**
 * The typed training configuration: every hyperparameter of a pretraining run with its default and a comment,
 * `key=value` overrides with unknown keys rejected (with a suggestion), and validation whose errors name the field,
 * what was expected and what was received. The resolved config is printed at the start of a run and saved in
 * every checkpoint's state.json.
 */
import { UserError } from '../util/user-error.ts';

export interface TrainConfig {
  /** Optimizer updates in the run. */
  steps: number;
  /** Sequences per micro-batch (B). */
  batchSize: number;
  /** Micro-batches whose gradients are summed into one update (the loss of each is scaled by 1/gradAccum). */
  gradAccum: number;
  /** Tokens per sequence (T); at most the model's blockSize. 0: the model's blockSize. */
  context: number;
  /** Learning-rate schedule after warmup: 'cosine' (to minLr at lrDecaySteps) or 'constant'. */
  schedule: 'cosine' | 'constant';
  /** Peak learning rate. */
  lr: number;
  /** Floor of the cosine decay. */
  minLr: number;
  /** Linear warmup updates. */
  warmup: number;
  /** Update at which the cosine reaches minLr; 0: the run's steps. */
  lrDecaySteps: number;
  /** Warmup ramp denominator: 'warmup+1' (nanoGPT) or 'warmup' (the charlm PyTorch reference). */
  warmupDivisor: 'warmup+1' | 'warmup';
  /** AdamW first-moment decay. */
  beta1: number;
  /** AdamW second-moment decay. */
  beta2: number;
  /** AdamW epsilon. */
  eps: number;
  /** Decoupled weight decay for matrices (parameters with ndim >= 2); vectors (biases, norms) never decay. */
  weightDecay: number;
  /** Global gradient-norm clip (0 disables). */
  clip: number;
  /** Updates between validation evaluations (0: only at the end). */
  evalInterval: number;
  /** Validation batches averaged per evaluation. */
  evalIters: number;
  /** Seed of the validation batches (the same batches at every evaluation). */
  evalSeed: number;
  /** Updates between training-loss log lines and metrics records. */
  logInterval: number;
  /** Updates between checkpoints of <out>/checkpoints/latest (0: only at evaluations and at the end). */
  checkpointInterval: number;
  /**
   * Updates between kept snapshots <out>/checkpoints/step-<N> (0: none). A snapshot step is also a checkpoint step:
   * latest is written there too, so the snapshot holds the same weights as latest at that step.
   */
  keepEvery: number;
  /** Snapshots kept when keepEvery is on: the oldest beyond this many are deleted (0: keep all). */
  keepLast: number;
  /** Prompt continued at each evaluation ('' disables the sample; needs a tokenizer). */
  samplePrompt: string;
  /** Tokens generated for the sample. */
  sampleTokens: number;
  /** Sampling temperature of the sample (0: greedy). */
  sampleTemperature: number;
  /** Seed of data sampling, model initialization and dropout. */
  seed: number;
  /**
   * Peak fp32 GFLOP/s of the machine (460: the development CPU's), the denominator of MFU; a run whose matmuls are
   * bf16 is measured against twice it (train/metrics mfuPeakGflops).
   */
  peakGflops: number;
  /**
   * GEMM precision of the run (src/train/precision.ts): 'fp32', 'bf16' (bf16 operands, fp32 accumulation and
   * everything else fp32) or 'auto' (bf16 on CPUs with AMX-BF16/AVX512_BF16, else fp32; LLMFORGE_MATMUL first).
   * 'fp32' for library calls; the CLI and recipes default to 'auto'.
   */
  precision: 'auto' | 'fp32' | 'bf16';
}

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  steps: 1000,
  batchSize: 12,
  gradAccum: 1,
  context: 0,
  schedule: 'cosine',
  lr: 1e-3,
  minLr: 1e-4,
  warmup: 100,
  lrDecaySteps: 0,
  warmupDivisor: 'warmup+1',
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  weightDecay: 0.1,
  clip: 1.0,
  evalInterval: 250,
  evalIters: 50,
  evalSeed: 1234,
  logInterval: 10,
  checkpointInterval: 0,
  keepEvery: 0,
  keepLast: 0,
  samplePrompt: '\n',
  sampleTokens: 32,
  sampleTemperature: 0,
  seed: 1337,
  peakGflops: 460,
  precision: 'fp32',
});

export class TrainConfigError extends UserError {}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const a = name.toLowerCase();
    const b = c.toLowerCase();
    let d = Math.abs(a.length - b.length);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) d++;
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return bestScore <= 3 ? best : undefined;
}

/** True when `key` names a training hyperparameter. */
export function isTrainKey(key: string): key is keyof TrainConfig {
  return Object.hasOwn(DEFAULT_TRAIN_CONFIG, key);
}

/**
 * Applies `overrides` (values already typed, or strings from `--set key=value`) on top of `base`; unknown keys
 * and values of the wrong type are errors naming the key. `source` prefixes the message (e.g. '--set').
 */
export function applyTrainOverrides(
  base: TrainConfig,
  overrides: Record<string, unknown>,
  source = 'train config',
): TrainConfig {
  const out: TrainConfig = { ...base };
  const rec = out as unknown as Record<string, unknown>;
  for (const [key, raw] of Object.entries(overrides)) {
    if (!isTrainKey(key)) {
      const hint = closest(key, Object.keys(DEFAULT_TRAIN_CONFIG));
      throw new TrainConfigError(`${source}: unknown training key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    const want = typeof DEFAULT_TRAIN_CONFIG[key];
    if (want === 'number') {
      const v = typeof raw === 'string' ? Number(raw) : raw;
      if (typeof v !== 'number' || !Number.isFinite(v) || (typeof raw === 'string' && raw.trim() === '')) {
        throw new TrainConfigError(`${source}: ${key} expects a number, received ${JSON.stringify(raw)}`);
      }
      rec[key] = v;
    } else {
      if (typeof raw !== 'string')
        throw new TrainConfigError(`${source}: ${key} expects a string, received ${JSON.stringify(raw)}`);
      rec[key] = raw;
    }
  }
  validateTrainConfig(out);
  return out;
}

/** Checks every field; the first problem is thrown as one line naming the field, expected and received. */
export function validateTrainConfig(c: TrainConfig): void {
  const fail = (key: keyof TrainConfig, want: string): never => {
    throw new TrainConfigError(`train config: ${key} must be ${want}, received ${JSON.stringify(c[key])}`);
  };
  const posInt = ['steps', 'batchSize', 'gradAccum', 'evalIters', 'logInterval'] as const;
  for (const k of posInt) if (!(Number.isInteger(c[k]) && c[k] >= 1)) fail(k, 'a positive integer');
  const natInt = [
    'context',
    'warmup',
    'lrDecaySteps',
    'evalInterval',
    'checkpointInterval',
    'keepEvery',
    'keepLast',
    'sampleTokens',
    'seed',
    'evalSeed',
  ] as const;
  for (const k of natInt) if (!(Number.isInteger(c[k]) && c[k] >= 0)) fail(k, 'a non-negative integer');
  if (c.schedule !== 'cosine' && c.schedule !== 'constant') fail('schedule', '"cosine" or "constant"');
  if (c.warmupDivisor !== 'warmup+1' && c.warmupDivisor !== 'warmup') fail('warmupDivisor', '"warmup+1" or "warmup"');
  if (!(c.lr > 0 && Number.isFinite(c.lr))) fail('lr', 'a positive number');
  if (!(c.minLr >= 0 && c.minLr <= c.lr)) fail('minLr', `a number in [0, lr = ${c.lr}]`);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) fail('beta1', 'in [0, 1)');
  if (!(c.beta2 >= 0 && c.beta2 < 1)) fail('beta2', 'in [0, 1)');
  if (!(c.eps > 0)) fail('eps', 'a positive number');
  if (!(c.weightDecay >= 0)) fail('weightDecay', 'a non-negative number');
  if (!(c.clip >= 0)) fail('clip', 'a non-negative number (0 disables clipping)');
  if (!(c.sampleTemperature >= 0)) fail('sampleTemperature', 'a non-negative number (0: greedy)');
  if (!(c.peakGflops > 0)) fail('peakGflops', 'a positive number');
  if (c.precision !== 'auto' && c.precision !== 'fp32' && c.precision !== 'bf16')
    fail('precision', '"auto", "fp32" or "bf16"');
}

/** The resolved config as aligned `key value` lines, for the start of a run. */
export function formatTrainConfig(c: TrainConfig): string {
  const width = Math.max(...Object.keys(c).map((k) => k.length));
  return Object.entries(c)
    .map(([k, v]) => `  ${k.padEnd(width)}  ${JSON.stringify(v)}`)
    .join('\n');
}
