/**
 * Micro-benchmarks of the fused native non-GEMM kernels at GPT-2-small sizes (C = 768, V = 50257): layerNorm
 * forward/backward, rmsNorm, softmax, cross-entropy forward/backward, GELU forward/backward, AdamW, a
 * row-broadcast add and the embedding gather. Each op runs a few warm-up calls, then `reps` timed calls; one
 * line per op reports median/min/max milliseconds and the effective memory bandwidth (bytes each call must
 * move at least once, over the median time). `--json` prints one JSON object per line for the bench harness.
 * Run alone with `node --import tsx src/bench/ops.ts [--json] [--reps=N]`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Binary, Unary, type Backend } from '../backend/backend.ts';
import { loadNativeAddon, type NativeAddon } from '../backend/native.ts';

type Kernels = NativeAddon & Omit<Backend, 'name'>;

interface Case {
  op: string;
  shape: number[];
  /** Bytes the call must read plus write at least once. */
  bytes: number;
  /** Builds the inputs and returns the timed call (allocation stays outside the timing). */
  setup: (k: Kernels) => () => void;
}

function filled(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

function ids(n: number, limit: number, seed: number): Int32Array {
  const a = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s % limit;
  }
  return a;
}

const F = 4; // bytes per float32

function cases(): Case[] {
  const N = 4096,
    C = 768,
    V = 50257,
    NCE = 256,
    NG = 4096 * 3072,
    NP = 16 * 1024 * 1024;
  return [
    {
      op: 'layerNorm',
      shape: [N, C],
      bytes: 2 * N * C * F,
      setup: (k) => {
        const x = filled(N * C, 1),
          w = filled(C, 2),
          b = filled(C, 3),
          out = new Float32Array(N * C);
        const mean = new Float32Array(N),
          rstd = new Float32Array(N);
        return () => k.layerNorm(x, w, b, out, mean, rstd, N, C, 1e-5);
      },
    },
    {
      op: 'layerNormBackward',
      shape: [N, C],
      bytes: 3 * N * C * F,
      setup: (k) => {
        const x = filled(N * C, 1),
          w = filled(C, 2),
          dout = filled(N * C, 4),
          dx = new Float32Array(N * C);
        const mean = new Float32Array(N),
          rstd = new Float32Array(N);
        k.layerNorm(x, w, null, new Float32Array(N * C), mean, rstd, N, C, 1e-5);
        const dw = new Float32Array(C),
          db = new Float32Array(C);
        return () => k.layerNormBackward(dout, x, w, mean, rstd, dx, dw, db, N, C);
      },
    },
    {
      op: 'rmsNorm',
      shape: [N, C],
      bytes: 2 * N * C * F,
      setup: (k) => {
        const x = filled(N * C, 1),
          w = filled(C, 2),
          out = new Float32Array(N * C),
          rstd = new Float32Array(N);
        return () => k.rmsNorm(x, w, out, rstd, N, C, 1e-6);
      },
    },
    {
      op: 'softmax',
      shape: [N, 1024],
      bytes: 2 * N * 1024 * F,
      setup: (k) => {
        const x = filled(N * 1024, 5, 8),
          out = new Float32Array(N * 1024);
        return () => k.softmax(x, out, N, 1024);
      },
    },
    {
      op: 'crossEntropy',
      shape: [NCE, V],
      bytes: NCE * V * F,
      setup: (k) => {
        const x = filled(NCE * V, 6, 8),
          t = ids(NCE, V, 7),
          losses = new Float32Array(NCE),
          lse = new Float32Array(NCE);
        return () => k.crossEntropy(x, t, losses, lse, NCE, V, -100, 0);
      },
    },
    {
      op: 'crossEntropyBackward',
      shape: [NCE, V],
      bytes: 2 * NCE * V * F,
      setup: (k) => {
        const x = filled(NCE * V, 6, 8),
          t = ids(NCE, V, 7),
          losses = new Float32Array(NCE),
          lse = new Float32Array(NCE);
        k.crossEntropy(x, t, losses, lse, NCE, V, -100, 0);
        const dl = new Float32Array(NCE).fill(1 / NCE),
          dx = new Float32Array(NCE * V);
        return () => k.crossEntropyBackward(x, lse, t, dl, dx, NCE, V, -100, 0);
      },
    },
    {
      op: 'geluTanh',
      shape: [NG],
      bytes: 2 * NG * F,
      setup: (k) => {
        const x = filled(NG, 8, 4),
          out = new Float32Array(NG);
        return () => k.unary(Unary.geluTanh, x, out, NG);
      },
    },
    {
      op: 'geluTanhBackward',
      shape: [NG],
      bytes: 3 * NG * F,
      setup: (k) => {
        const x = filled(NG, 8, 4),
          y = new Float32Array(NG),
          dy = filled(NG, 9),
          dx = new Float32Array(NG);
        k.unary(Unary.geluTanh, x, y, NG);
        return () => k.unaryBackward(Unary.geluTanh, x, y, dy, dx, NG);
      },
    },
    {
      op: 'adamw',
      shape: [NP],
      bytes: 7 * NP * F,
      setup: (k) => {
        const p = filled(NP, 10),
          g = filled(NP, 11),
          m = new Float32Array(NP),
          v = new Float32Array(NP);
        let step = 0;
        return () => k.adamw(p, g, m, v, NP, 1e-4, 0.9, 0.95, 1e-8, 0.1, ++step, 1);
      },
    },
    {
      op: 'addRowBroadcast',
      shape: [N, C],
      bytes: 2 * N * C * F,
      setup: (k) => {
        const a = filled(N * C, 12),
          b = filled(C, 13),
          out = new Float32Array(N * C);
        const as = new Int32Array([C, 1]),
          bs = new Int32Array([0, 1]),
          shape = new Int32Array([N, C]);
        return () => k.binary(Binary.add, a, as, b, bs, out, shape);
      },
    },
    {
      op: 'embedding',
      shape: [N, C],
      bytes: 2 * N * C * F,
      setup: (k) => {
        const w = filled(V * C, 14),
          t = ids(N, V, 15),
          out = new Float32Array(N * C);
        return () => k.embedding(w, t, out, N, C);
      },
    },
  ];
}

export async function benchOps(opts: { json: boolean; reps?: number }): Promise<void> {
  const loaded = loadNativeAddon();
  if ('error' in loaded) {
    throw new Error(`benchOps: the native addon could not be loaded (${loaded.error}). Run \`npm run build:native\`.`);
  }
  const k = loaded.addon as Kernels;
  const reps = Math.max(1, opts.reps ?? 20);
  const isa = k.cpuInfo().isa;
  const threads = k.numThreads();
  if (!opts.json) process.stdout.write(`ops bench: isa ${isa}, ${threads} threads, ${reps} reps\n`);
  for (const c of cases()) {
    const run = c.setup(k);
    for (let i = 0; i < 2; i++) run();
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      run();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const median = ms[Math.floor(ms.length / 2)]!;
    const gbps = c.bytes / (median * 1e-3) / 1e9;
    const row = {
      bench: 'ops',
      op: c.op,
      shape: c.shape,
      gbps: round(gbps),
      ms_median: round(median),
      ms_min: round(ms[0]!),
      ms_max: round(ms[ms.length - 1]!),
      isa,
      threads,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(row)}\n`);
    } else {
      process.stdout.write(
        `${c.op.padEnd(22)} ${JSON.stringify(c.shape).padEnd(14)} ${row.gbps.toFixed(2).padStart(8)} GB/s  ` +
          `median ${row.ms_median.toFixed(3)} ms  (min ${row.ms_min.toFixed(3)}, max ${row.ms_max.toFixed(3)})\n`,
      );
    }
    // Let the large arrays of this case go before the next one allocates.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const repsArg = process.argv.find((a) => a.startsWith('--reps='));
  await benchOps({ json: process.argv.includes('--json'), ...(repsArg ? { reps: Number(repsArg.slice(7)) } : {}) });
}
