/**
 * Opt-in step breakdown of GPT training (bench/train.ts's T1-T3 setup): wraps every method of the active backend
 * with a timer (keyed by method, and by shape for GEMMs) and also times forward / backward / optimizer phases.
 * Usage: npx tsx scripts/profile-train.ts T3 [steps]   (LLMFORGE_MATMUL=bf16 for the bf16 matmul mode).
 * Timers cost ~0.1 us per call; use the totals for shares, bench train for throughput.
 */
import { backend } from '../src/backend/index.ts';
import { TRAIN_CONFIGS, type TrainConfigName } from '../bench/train.ts';
import { completeModelConfig } from '../src/models/config.ts';
import { GPT } from '../src/models/gpt.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { clipScale } from '../src/optim/param-groups.ts';
import { Rng } from '../src/tensor/random.ts';

const name = (process.argv[2] ?? 'T2') as TrainConfigName;
const steps = Number(process.argv[3] ?? 3);
const c = TRAIN_CONFIGS[name];
const be = backend() as unknown as Record<string, unknown>;
const totals = new Map<string, { ms: number; calls: number }>();
let on = false;
for (const key of Object.keys(be)) {
  const f = be[key];
  if (typeof f !== 'function' || key === 'numThreads') continue;
  be[key] = (...args: unknown[]) => {
    if (!on) return (f as (...a: unknown[]) => unknown)(...args);
    const t0 = performance.now();
    const r = (f as (...a: unknown[]) => unknown)(...args);
    const dt = performance.now() - t0;
    const tag = key.startsWith('gemm') ? `${key} ${args.slice(3, 9).join(',')}` : key;
    const e = totals.get(tag) ?? { ms: 0, calls: 0 };
    e.ms += dt;
    e.calls += 1;
    totals.set(tag, e);
    return r;
  };
}
const rng = new Rng(1337);
const model = new GPT(completeModelConfig({ arch: 'gpt2', vocabSize: c.vocab, blockSize: c.ctx, nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.d }), rng);
const params = model.parameters();
const opt = new AdamW([
  { params: params.filter((p) => p.ndim >= 2) },
  { params: params.filter((p) => p.ndim < 2), options: { weightDecay: 0 } },
], { lr: 6e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
const n = c.batch * c.ctx;
const ids = new Int32Array(n);
const targets = new Int32Array(n);
const phase = { fwd: 0, bwd: 0, opt: 0 };
for (let step = 0; step < steps + 1; step++) {
  on = step > 0;
  for (let i = 0; i < n; i++) {
    ids[i] = rng.int(c.vocab);
    targets[i] = rng.int(c.vocab);
  }
  const t0 = performance.now();
  const { loss } = model.forward(ids, c.batch, c.ctx, targets);
  const t1 = performance.now();
  opt.zeroGrad();
  loss!.backward();
  const t2 = performance.now();
  opt.step(clipScale(params, 1).scale);
  const t3 = performance.now();
  if (on) {
    phase.fwd += t1 - t0;
    phase.bwd += t2 - t1;
    phase.opt += t3 - t2;
  }
}
const per = (ms: number): string => (ms / steps).toFixed(1);
const step = phase.fwd + phase.bwd + phase.opt;
console.log(`${name} per step: total ${per(step)} ms, forward ${per(phase.fwd)}, backward ${per(phase.bwd)}, optimizer ${per(phase.opt)}`);
const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
let kernels = 0;
for (const [, e] of rows) kernels += e.ms;
console.log(`kernels ${per(kernels)} ms/step (${((100 * kernels) / step).toFixed(0)}%); outside kernels ${per(step - kernels)} ms`);
for (const [k, e] of rows.slice(0, 40)) console.log(`${per(e.ms).padStart(8)} ms ${((100 * e.ms) / step).toFixed(1).padStart(5)}%  ${String(e.calls / steps).padStart(5)}x  ${k}`);
