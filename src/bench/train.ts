/**
 * Training throughput of the GPT-2 style model (fp32, AdamW with a no-decay group, global-norm clipping),
 * forward and backward inside a StorageArena (as the trainer runs them), random tokens, for the configs T1-T3 of ../shared/bench/torch_gpt_bench.py. Each config runs in its own child
 * process so peak RSS is per config. Prints {"bench":"train","config":..,"tokens_per_s":..,"step_ms_median":..,
 * "peak_rss_mb":..} lines (plus "matmul": fp32 by default, as the configs are defined; bf16 with `precision: 'bf16'`
 * or LLMFORGE_MATMUL=bf16); with torch, the PyTorch reference runs in the same session with the environment its
 * header gives.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childLoader } from './child.ts';
import { completeModelConfig } from '../models/config.ts';
import { matmulPrecision, type MatmulPrecision } from '../ops/matmul-precision.ts';
import { GPT } from '../models/gpt.ts';
import { AdamW } from '../optim/adamw.ts';
import { clipScale, decayGroups } from '../optim/param-groups.ts';
import { StorageArena } from '../tensor/arena.ts';
import { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';

export const TRAIN_CONFIGS = {
  T1: { vocab: 65, ctx: 64, nLayer: 4, nHead: 4, d: 128, batch: 12 },
  T2: { vocab: 8192, ctx: 256, nLayer: 6, nHead: 6, d: 384, batch: 8 },
  T3: { vocab: 50257, ctx: 256, nLayer: 12, nHead: 12, d: 768, batch: 4 },
} as const;
export type TrainConfigName = keyof typeof TRAIN_CONFIGS;

/** The benchmark's model and optimizer for one config: GPT-2 style, seed 1337, AdamW with a no-decay group. */
export function buildTrainBench(c: (typeof TRAIN_CONFIGS)[TrainConfigName]): {
  rng: Rng;
  model: GPT;
  params: Tensor[];
  opt: AdamW;
} {
  const rng = new Rng(1337);
  const model = new GPT(
    completeModelConfig({
      arch: 'gpt2',
      vocabSize: c.vocab,
      blockSize: c.ctx,
      nLayer: c.nLayer,
      nHead: c.nHead,
      nEmbd: c.d,
    }),
    rng,
  );
  const params = model.parameters();
  const opt = new AdamW(decayGroups(params), { lr: 6e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
  return { rng, model, params, opt };
}

const TORCH_SCRIPT = fileURLToPath(new URL('../../../shared/bench/torch_gpt_bench.py', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

/** Runs one config in this process and returns its result. */
function runConfig(name: TrainConfigName, steps: number, warmup: number): Record<string, unknown> {
  const c = TRAIN_CONFIGS[name];
  const { rng, model, params, opt } = buildTrainBench(c);
  const n = c.batch * c.ctx;
  const ids = new Int32Array(n);
  const targets = new Int32Array(n);
  const times: number[] = [];
  const arena = new StorageArena(); // activations and gradients reuse last step's storage, as in the trainer
  for (let step = 0; step < warmup + steps; step++) {
    for (let i = 0; i < n; i++) {
      ids[i] = rng.int(c.vocab);
      targets[i] = rng.int(c.vocab);
    }
    const t0 = performance.now();
    arena.run(() => {
      const { loss } = model.forward(ids, c.batch, c.ctx, targets);
      opt.zeroGrad();
      loss!.backward();
    });
    opt.step(clipScale(params, 1).scale);
    if (step >= warmup) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)]!;
  return {
    bench: 'train',
    impl: 'llmforge',
    config: name,
    matmul: matmulPrecision(),
    params: model.numParameters(),
    tokens_per_s: n / (med / 1000),
    step_ms_median: med,
    step_ms_min: times[0],
    step_ms_max: times[times.length - 1],
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    steps,
  };
}

/**
 * precision: our side's matmul precision (bf16: the same as `bf16: true`); without either, the environment's
 * (LLMFORGE_MATMUL, else fp32). The PyTorch reference stays fp32.
 */
export async function benchTrain(opts: {
  json: boolean;
  configs?: TrainConfigName[];
  steps?: number;
  torch?: boolean;
  bf16?: boolean;
  precision?: MatmulPrecision;
}): Promise<void> {
  const configs = opts.configs ?? (['T1', 'T2', 'T3'] as TrainConfigName[]);
  const steps = opts.steps ?? 10;
  const precision = opts.bf16 ? 'bf16' : opts.precision;
  const childEnv = precision !== undefined ? { ...process.env, LLMFORGE_MATMUL: precision } : process.env;
  for (const name of configs) {
    const r = spawnSync(process.execPath, [...childLoader(SELF), SELF, '--child', name, String(steps)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      env: childEnv,
    });
    if (r.status !== 0) throw new Error(`bench train ${name} failed:\n${r.stderr}`);
    const ours = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    print(opts.json, ours);
    if (opts.torch) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OMP_WAIT_POLICY: 'passive',
        GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736',
      };
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
      const t = spawnSync(
        '/usr/bin/python3',
        [TORCH_SCRIPT, '--mode', 'train', '--cfg', name, '--steps', String(steps)],
        { encoding: 'utf8', env },
      );
      const line = t.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line)
        throw new Error(`bench train: the PyTorch reference printed no RESULT line:\n${t.stderr.slice(-2000)}`);
      const res = JSON.parse(line.slice(7)) as Record<string, number>;
      print(opts.json, {
        bench: 'train_torch',
        config: name,
        tokens_per_s: res.tokens_per_s!,
        step_ms_median: res.step_ms_median!,
        step_ms_min: res.step_ms_min!,
        step_ms_max: res.step_ms_max!,
        peak_rss_mb: res.peak_rss_mb!,
        ratio: ours.tokens_per_s! / res.tokens_per_s!,
      });
    }
  }
}

function print(json: boolean, obj: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(obj)}\n`);
  else
    process.stdout.write(
      `${Object.entries(obj)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`)
        .join(' ')}\n`,
    );
}

if (process.argv[2] === '--child' && process.argv[1] === SELF) {
  const name = process.argv[3] as TrainConfigName;
  process.stdout.write(`${JSON.stringify(runConfig(name, Number(process.argv[4] ?? 10), 3))}\n`);
}
