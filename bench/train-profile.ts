/**
 * Where a training step's time goes: runs the `bench train` step (GPT, AdamW with a no-decay group, clipping) for
 * one config and prints, per phase (forward, backward, clip, optimizer), the wall time, the time spent inside
 * native kernels (per kernel name, with call counts), the time in each op's backward closure (per op name), the
 * bytes of float storage allocated, and GC pauses. Phase time minus kernel time is the JS/dispatch overhead.
 * Profiling wraps every backend kernel with a timer, which adds ~0.1-0.2 us per call: compare profiles with each
 * other, and step times with `bench train`.
 *
 * Forward and backward run inside a StorageArena (as `bench train` and the trainer do); --no-arena turns it off.
 *
 *   npx tsx bench/train-profile.ts [T1|T2|T3] [steps] [--no-arena]   (LLMFORGE_MATMUL=bf16 for bf16 matmuls)
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { backend } from '../src/backend/index.ts';
import { clipScale } from '../src/optim/param-groups.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { StorageArena } from '../src/tensor/arena.ts';
import { buildTrainBench, TRAIN_CONFIGS, type TrainConfigName } from '../src/bench/train.ts';

type Phase = 'forward' | 'backward' | 'clip' | 'optimizer';
interface Stat {
  ms: number;
  calls: number;
  bytes: number;
}

const stats = new Map<string, Stat>();
let phase: Phase = 'forward';
let profiling = false;

function bump(key: string, ms: number, bytes = 0): void {
  const s = stats.get(key) ?? { ms: 0, calls: 0, bytes: 0 };
  s.ms += ms;
  s.calls++;
  s.bytes += bytes;
  stats.set(key, s);
}

/** Wraps every kernel of the active backend object in place with a timer keyed by phase and kernel name. */
function instrumentBackend(): void {
  const be = backend() as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(be)) {
    if (typeof fn !== 'function' || name === 'numThreads' || name === 'setNumThreads') continue;
    const f = fn as (...a: unknown[]) => unknown;
    be[name] = (...args: unknown[]): unknown => {
      if (!profiling) return f(...args);
      const t0 = performance.now();
      const r = f(...args);
      bump(`${phase}/kernel/${name}`, performance.now() - t0);
      return r;
    };
  }
}

/** Wraps each node's backward closure of the graph under root with a timer keyed by op name. */
function instrumentGraph(root: Tensor): void {
  const seen = new Set<Tensor>();
  const stack = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    const node = t.node as { op: string; backward: (g: Tensor) => (Tensor | null)[] };
    const inner = node.backward;
    node.backward = (g: Tensor) => {
      const t0 = performance.now();
      const r = inner(g);
      const bytes = r.reduce((n, x) => n + (x ? x.data.byteLength : 0), 0);
      bump(`backward/op/${node.op}`, performance.now() - t0, bytes);
      return r;
    };
    stack.push(...t.node.inputs);
  }
}

/** Sums the storage bytes of every tensor in the graph under root (forward activations and saved buffers). */
function graphBytes(root: Tensor): { bytes: number; nodes: number; byOp: Map<string, number> } {
  const seen = new Set<Tensor>();
  const byOp = new Map<string, number>();
  const stack = [root];
  let bytes = 0;
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (!t.node) continue;
    bytes += t.data.byteLength;
    byOp.set(t.node.op, (byOp.get(t.node.op) ?? 0) + 1);
    stack.push(...t.node.inputs);
  }
  return { bytes, nodes: seen.size, byOp };
}

async function main(): Promise<void> {
  const name = (process.argv[2] ?? 'T1') as TrainConfigName;
  const steps = Number(process.argv[3] ?? 20);
  const c = TRAIN_CONFIGS[name];
  if (!c) throw new RangeError(`train-profile: unknown config ${name}; expected T1, T2 or T3`);
  instrumentBackend();
  let gcMs = 0;
  let gcCount = 0;
  let profileStart = Infinity;
  let profileEnd = Infinity;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < profileStart || e.startTime > profileEnd) continue;
      gcMs += e.duration;
      gcCount++;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const { rng, model, params, opt } = buildTrainBench(c);
  const n = c.batch * c.ctx;
  const ids = new Int32Array(n);
  const targets = new Int32Array(n);
  const warmup = 3;
  const arena = process.argv.includes('--no-arena') ? null : new StorageArena();
  let freshBytes0 = 0;
  const phaseMs: Record<Phase, number[]> = { forward: [], backward: [], clip: [], optimizer: [] };
  const stepMs: number[] = [];
  const cpu0 = { user: 0, system: 0 };
  let graph = { bytes: 0, nodes: 0, byOp: new Map<string, number>() };
  for (let step = 0; step < warmup + steps; step++) {
    for (let i = 0; i < n; i++) {
      ids[i] = rng.int(c.vocab);
      targets[i] = rng.int(c.vocab);
    }
    if (step === warmup) {
      profiling = true;
      profileStart = performance.now();
      freshBytes0 = arena ? arena.stats.freshBytes : 0;
      Object.assign(cpu0, process.cpuUsage());
    }
    const t0 = performance.now();
    let t1 = 0;
    let t1b = 0;
    const fwdBwd = (): void => {
      phase = 'forward';
      const { loss } = model.forward(ids, c.batch, c.ctx, targets);
      t1 = performance.now();
      if (profiling) {
        graph = graphBytes(loss!);
        instrumentGraph(loss!);
      }
      t1b = performance.now();
      phase = 'backward';
      opt.zeroGrad();
      loss!.backward();
    };
    if (arena) arena.run(fwdBwd);
    else fwdBwd();
    const t2 = performance.now();
    phase = 'clip';
    const { scale } = clipScale(params, 1);
    const t3 = performance.now();
    phase = 'optimizer';
    opt.step(scale);
    const t4 = performance.now();
    if (profiling) {
      phaseMs.forward.push(t1 - t0);
      phaseMs.backward.push(t2 - t1b);
      phaseMs.clip.push(t3 - t2);
      phaseMs.optimizer.push(t4 - t3);
      stepMs.push(t4 - t1b + (t1 - t0));
    }
  }
  profiling = false;
  profileEnd = performance.now();
  const cpu = process.cpuUsage(cpu0 as NodeJS.CpuUsage);
  await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries arrive asynchronously
  gcObserver.disconnect();
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  out(
    `config ${name}, ${steps} profiled steps, ${backend().numThreads()} threads; step median ${med(stepMs).toFixed(2)} ms, mean ${mean(stepMs).toFixed(2)} ms`,
  );
  out(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  out(
    `process CPU per step: user ${(cpu.user / 1000 / steps).toFixed(2)} ms, system ${(cpu.system / 1000 / steps).toFixed(2)} ms; GC ${(gcMs / steps).toFixed(2)} ms in ${(gcCount / steps).toFixed(1)} pauses per step`,
  );
  if (arena)
    out(
      `arena: ${arena.size} buffers, fresh allocations during the profiled steps ${((arena.stats.freshBytes - freshBytes0) / 2 ** 20 / steps).toFixed(2)} MiB per step`,
    );
  else out('arena: off (--no-arena): every activation and gradient is a fresh allocation');
  out(
    `graph: ${graph.nodes} tensors, ${(graph.bytes / 2 ** 20).toFixed(1)} MiB of outputs; nodes by op: ${[...graph.byOp].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  for (const p of ['forward', 'backward', 'clip', 'optimizer'] as Phase[]) {
    const phaseMean = mean(phaseMs[p]);
    const rows = [...stats].filter(([k]) => k.startsWith(`${p}/`)).sort((a, b) => b[1].ms - a[1].ms);
    const kernelMs = rows.filter(([k]) => k.includes('/kernel/')).reduce((a, [, s]) => a + s.ms, 0) / steps;
    out(
      `\n${p}: mean ${phaseMean.toFixed(2)} ms (median ${med(phaseMs[p]).toFixed(2)}), in kernels ${kernelMs.toFixed(2)} ms, outside ${(phaseMean - kernelMs).toFixed(2)} ms`,
    );
    for (const [k, s] of rows) {
      const extra = s.bytes > 0 ? `  ${(s.bytes / steps / 2 ** 20).toFixed(1)} MiB out` : '';
      out(
        `  ${k.slice(p.length + 1).padEnd(34)} ${(s.ms / steps).toFixed(3).padStart(8)} ms ${String(s.calls / steps).padStart(6)} calls${extra}`,
      );
    }
  }
}

await main();
