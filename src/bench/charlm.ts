/**
 * The learning-parity check of issue 4: nanoGPT's CPU shakespeare-char recipe through llmforge's trainer, exactly
 * as ../shared/bench/torch_gpt_bench.py --mode charlm runs it (vocabulary = the file's sorted characters, first 90%
 * train / last 10% validation, 4 layers, 4 heads, 128 dims, context 64, batch 12, lr 1e-3 with 100 warmup updates
 * then cosine to 1e-4 at the last iteration, betas 0.9/0.99, weight decay 0.1, clip 1.0, dropout 0, biases, tied
 * head, validation every 250 iterations as the mean of 200 batches of a fixed seed). Prints
 * {"bench":"charlm","val_loss":..,"iters":..,"train_s":..,"tokens_per_s":..}; with torch, the reference runs in
 * the same session with the environment its header gives, and the difference is printed. The trainer writes its
 * checkpoints to a temporary directory, removed at the end, on an error and on Ctrl-C (which stops after the
 * current update; a second Ctrl-C quits at once).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenDataset } from '../data/dataset.ts';
import { resolveModelConfig } from '../models/presets.ts';
import { matmulPrecision } from '../ops/matmul-precision.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../train/config.ts';
import { train } from '../train/trainer.ts';
import { Progress } from '../util/progress.ts';
import { UserError } from '../util/user-error.ts';

const TORCH_SCRIPT = fileURLToPath(new URL('../../../shared/bench/torch_gpt_bench.py', import.meta.url));

export interface CharlmOptions {
  data: string;
  iters?: number;
  json: boolean;
  torch?: boolean;
}

/** Character-level splits of `path` as the PyTorch reference builds them (code points, sorted). */
function charSplits(path: string): { vocab: number; train: TokenDataset; val: TokenDataset } {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      `bench charlm: cannot read --data ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const chars = Array.from(raw);
  const vocab = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const index = new Map(vocab.map((c, i) => [c, i]));
  const ids = chars.map((c) => index.get(c)!);
  const n = Math.floor(0.9 * ids.length);
  if (ids.length - n < 66)
    throw new UserError(`bench charlm: ${path} has ${ids.length} characters; the validation tenth needs at least 66`);
  const bytes = (part: string[]): number => Buffer.byteLength(part.join(''), 'utf8') / part.length;
  return {
    vocab: vocab.length,
    train: TokenDataset.fromTokens(ids.slice(0, n), vocab.length, bytes(chars.slice(0, n))),
    val: TokenDataset.fromTokens(ids.slice(n), vocab.length, bytes(chars.slice(n))),
  };
}

async function runOurs(path: string, iters: number): Promise<Record<string, unknown>> {
  const { vocab, train: tr, val } = charSplits(path);
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    steps: iters,
    batchSize: 12,
    gradAccum: 1,
    context: 64,
    schedule: 'cosine',
    lr: 1e-3,
    minLr: 1e-4,
    warmup: 100,
    lrDecaySteps: iters,
    warmupDivisor: 'warmup',
    beta1: 0.9,
    beta2: 0.99,
    eps: 1e-8,
    weightDecay: 0.1,
    clip: 1,
    evalInterval: 250,
    evalIters: 200,
    evalSeed: 1234,
    logInterval: iters,
    samplePrompt: '',
    seed: 1337,
    precision: matmulPrecision(), // the process setting: LLMFORGE_MATMUL=bf16 runs this benchmark in bf16
  };
  const model = resolveModelConfig('char-tiny', {
    vocabSize: vocab,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    dropout: 0,
    bias: true,
    tieEmbeddings: true,
  });
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(); // once: a second Ctrl-C terminates as usual
  process.once('SIGINT', onSigint); // before the directory exists, so no single Ctrl-C can leave it behind
  let out: string | null = null;
  const progress = new Progress({ label: 'charlm', total: iters, unit: 'steps' });
  const curve: [number, number][] = [];
  const t0 = performance.now();
  let trainS = 0;
  try {
    out = mkdtempSync(join(tmpdir(), 'llmforge-charlm-'));
    const result = await train(
      { config, model, train: tr, val, out, quiet: true, signal: controller.signal },
      {
        onStep: (s) => {
          progress.update(s.step);
          if (s.step === iters) trainS = (performance.now() - t0) / 1000; // as the reference: evaluations before the last included
        },
        onEval: (e) => void curve.push([e.step, e.loss]),
      },
    );
    if (result.stopped)
      throw new UserError(`bench charlm: interrupted at step ${result.step}/${iters}; no result`, { exitCode: 130 });
  } finally {
    process.off('SIGINT', onSigint);
    if (out !== null) rmSync(out, { recursive: true, force: true });
  }
  progress.finish(iters);
  const valLoss = curve[curve.length - 1]![1];
  return {
    bench: 'charlm',
    val_loss: valLoss,
    iters,
    train_s: trainS,
    tokens_per_s: (iters * 12 * 64) / trainS,
    impl: 'llmforge',
    data: basename(path),
    vocab,
    curve,
  };
}

function runTorch(path: string, iters: number): Record<string, unknown> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_WAIT_POLICY: 'passive',
    GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736',
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const t = spawnSync(
    '/usr/bin/python3',
    [TORCH_SCRIPT, '--mode', 'charlm', '--data', path, '--iters', String(iters)],
    { encoding: 'utf8', env, maxBuffer: 1 << 24 },
  );
  const line = t.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line)
    throw new Error(
      `bench charlm: the PyTorch reference printed no RESULT line:\n${(t.stderr ?? String(t.error)).slice(-2000)}`,
    );
  return JSON.parse(line.slice(7)) as Record<string, unknown>;
}

function print(json: boolean, obj: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(obj)}\n`);
  else
    process.stdout.write(
      `${Object.entries(obj)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(4) : JSON.stringify(v)}`)
        .join(' ')}\n`,
    );
}

export async function benchCharlm(opts: CharlmOptions): Promise<void> {
  const iters = opts.iters ?? 2000;
  if (!(Number.isInteger(iters) && iters > 0))
    throw new UserError(`bench charlm: --iters must be a positive integer, received ${iters}`);
  const ours = await runOurs(opts.data, iters);
  print(opts.json, ours);
  if (opts.torch) {
    const ref = runTorch(opts.data, iters);
    print(opts.json, {
      bench: 'charlm_torch',
      val_loss: ref.val_loss,
      iters: ref.iters,
      train_s: ref.train_s,
      tokens_per_s: ref.tokens_per_s,
      curve: ref.curve,
    });
    print(opts.json, {
      bench: 'charlm_diff',
      val_loss_diff: (ours.val_loss as number) - (ref.val_loss as number),
      within_0_03: Math.abs((ours.val_loss as number) - (ref.val_loss as number)) <= 0.03,
      speed_ratio: (ours.tokens_per_s as number) / (ref.tokens_per_s as number),
    });
  }
}
