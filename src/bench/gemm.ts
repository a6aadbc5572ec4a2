/**
 * GEMM micro-benchmark for the native backend: GFLOP/s of `gemm` on the GPT-sized shapes (forward NN and the
 * two backward products, NT for dX = dY @ W^T and TN for dW = X^T @ dY), the per-call overhead of a tiny native
 * call from TypeScript, and optionally the PyTorch (OpenBLAS) reference on the same shapes in the same run.
 * `bf16` adds the reduced-precision gemmBf16. Prints one JSON object per line; `benchGemm` is what the CLI calls.
 * Timings are medians of >= 5 reps after 3 warmups (more reps while under 2 s per shape, like the torch script).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNativeAddon, type NativeAddon } from '../backend/native.ts';

export interface GemmShape {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

export interface BenchGemmOptions {
  /** One JSON object per line (otherwise a readable table). */
  json: boolean;
  /** Native threads (default: the addon's pool size). */
  threads?: number;
  /** Timed repetitions per shape after warmup (at least 5). */
  reps?: number;
  shapes?: GemmShape[];
  /** Also run the PyTorch reference (`torch.mm`) on the same shapes and print the ratio. */
  torch?: boolean;
  /** Python interpreter with PyTorch (default /usr/bin/python3). */
  python?: string;
  /** Also time the reduced-precision gemmBf16 on the same shapes (`{"bench":"gemm_bf16",...}` lines). */
  bf16?: boolean;
}

/** Forward 1024^3 and the GPT-2 small MLP products (X 4096x768, W 768x3072) forward and backward. */
export const DEFAULT_GEMM_SHAPES: GemmShape[] = [
  { m: 1024, k: 1024, n: 1024, transA: false, transB: false },
  { m: 4096, k: 768, n: 3072, transA: false, transB: false }, // Y = X @ W
  { m: 4096, k: 3072, n: 768, transA: false, transB: false }, // Y = H @ W2
  { m: 4096, k: 3072, n: 768, transA: false, transB: true }, // dX = dY @ W^T
  { m: 768, k: 4096, n: 3072, transA: true, transB: false }, // dW = X^T @ dY
  { m: 4096, k: 768, n: 3072, transA: false, transB: true }, // dH = dY2 @ W2^T
  { m: 3072, k: 4096, n: 768, transA: true, transB: false }, // dW2 = H^T @ dY2
];

// ../shared/bench beside the repository root (this file lives in <root>/src/bench or <root>/dist/bench).
const TORCH_SCRIPT = fileURLToPath(new URL('../../../shared/bench/torch_gpt_bench.py', import.meta.url));

function stats(times: number[]): { median: number; min: number; max: number } {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

function randomArray(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function transName(s: GemmShape): string {
  return `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;
}

interface GemmResult {
  shape: GemmShape;
  gflops: number;
  ms: { median: number; min: number; max: number };
}

function timeGemm(gemm: NonNullable<NativeAddon['gemm']>, s: GemmShape, reps: number): GemmResult {
  const A = randomArray(s.m * s.k),
    B = randomArray(s.k * s.n),
    C = new Float32Array(s.m * s.n);
  const run = () => gemm(A, B, C, 1, s.m, s.n, s.k, s.transA, s.transB, 0, 0, 0, 0);
  for (let i = 0; i < 3; i++) run();
  const times: number[] = [];
  const deadline = performance.now() + 2000;
  while (times.length < reps || (performance.now() < deadline && times.length < 200)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const ms = stats(times);
  return { shape: s, gflops: (2 * s.m * s.k * s.n) / (ms.median * 1e6), ms };
}

/** Median microseconds of a 1x1x1 gemm call: the fixed cost of crossing into the addon and back. */
function callOverhead(addon: NativeAddon): number {
  const gemm = addon.gemm!;
  const A = new Float32Array(1),
    B = new Float32Array(1),
    C = new Float32Array(1);
  const batches: number[] = [];
  for (let r = 0; r < 21; r++) {
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) gemm(A, B, C, 1, 1, 1, 1, false, false, 0, 0, 0, 0);
    batches.push(((performance.now() - t0) * 1000) / n);
  }
  return stats(batches.slice(1)).median;
}

interface TorchResult {
  m: number;
  k: number;
  n: number;
  trans: string;
  threads: number;
  gflops: number;
  ms_median: number;
  ms_min: number;
  ms_max: number;
}

/**
 * Runs the PyTorch reference once per transpose kind with the environment its header asks for (AVX-512
 * OpenBLAS kernels, no OpenMP spinning, no page-fault churn). torch has no TT mode; TT shapes are skipped.
 */
function runTorch(shapes: GemmShape[], threads: number, python: string): TorchResult[] {
  if (!existsSync(TORCH_SCRIPT)) throw new Error(`benchGemm: PyTorch reference ${TORCH_SCRIPT} not found`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_WAIT_POLICY: 'passive',
    OMP_NUM_THREADS: String(threads),
    GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736',
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const out: TorchResult[] = [];
  for (const trans of ['NN', 'NT', 'TN']) {
    const group = shapes.filter((s) => transName(s) === trans);
    if (group.length === 0) continue;
    const arg = group.map((s) => `${s.m}x${s.k}x${s.n}`).join(',');
    const r = spawnSync(python, [TORCH_SCRIPT, '--mode', 'mm', '--shape', arg, '--trans', trans], {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) {
      throw new Error(
        `benchGemm: PyTorch reference failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim().slice(-500)}`,
      );
    }
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('RESULT ')) out.push(JSON.parse(line.slice(7)) as TorchResult);
    }
  }
  return out;
}

export async function benchGemm(opts: BenchGemmOptions): Promise<void> {
  const loaded = loadNativeAddon();
  if ('error' in loaded) {
    throw new Error(`benchGemm: native addon not loaded (${loaded.error}). HINT: run npm run build:native`);
  }
  const { addon } = loaded;
  if (typeof addon.gemm !== 'function') throw new Error('benchGemm: the native addon has no gemm kernel');
  if (opts.threads !== undefined) addon.setNumThreads(opts.threads);
  const threads = addon.numThreads();
  const reps = Math.max(5, opts.reps ?? 10);
  const shapes = opts.shapes ?? DEFAULT_GEMM_SHAPES;
  const emit = (o: Record<string, unknown>, text: string) => console.log(opts.json ? JSON.stringify(o) : text);

  const ours = new Map<string, number>();
  for (const s of shapes) {
    const r = timeGemm(addon.gemm, s, reps);
    ours.set(`${s.m}x${s.k}x${s.n}${transName(s)}`, r.gflops);
    emit(
      {
        bench: 'gemm',
        m: s.m,
        k: s.k,
        n: s.n,
        transA: s.transA,
        transB: s.transB,
        threads,
        isa: addon.cpuInfo().isa,
        gflops: r.gflops,
        ms_median: r.ms.median,
        ms_min: r.ms.min,
        ms_max: r.ms.max,
      },
      `gemm ${s.m}x${s.k}x${s.n} ${transName(s)}  ${r.gflops.toFixed(1)} GFLOP/s  median ${r.ms.median.toFixed(2)} ms ` +
        `[${r.ms.min.toFixed(2)}, ${r.ms.max.toFixed(2)}]`,
    );
  }
  if (opts.bf16) {
    const bf16 = addon.gemmBf16;
    if (typeof bf16 !== 'function') throw new Error('benchGemm: the native addon has no gemmBf16 kernel');
    for (const s of shapes) {
      const r = timeGemm(bf16, s, reps);
      emit(
        {
          bench: 'gemm_bf16',
          m: s.m,
          k: s.k,
          n: s.n,
          transA: s.transA,
          transB: s.transB,
          threads,
          avx512bf16: addon.cpuInfo().avx512bf16,
          gflops: r.gflops,
          ms_median: r.ms.median,
          ms_min: r.ms.min,
          ms_max: r.ms.max,
        },
        `gemmBf16 ${s.m}x${s.k}x${s.n} ${transName(s)}  ${r.gflops.toFixed(1)} GFLOP/s  median ${r.ms.median.toFixed(2)} ms ` +
          `[${r.ms.min.toFixed(2)}, ${r.ms.max.toFixed(2)}]`,
      );
    }
  }
  const us = callOverhead(addon);
  emit({ bench: 'call_overhead', us }, `call overhead (gemm 1x1x1): ${us.toFixed(3)} us/call`);

  if (opts.torch) {
    for (const t of runTorch(shapes, threads, opts.python ?? '/usr/bin/python3')) {
      const key = `${t.m}x${t.k}x${t.n}${t.trans}`;
      const mine = ours.get(key);
      const ratio = mine === undefined ? null : mine / t.gflops;
      emit(
        {
          bench: 'gemm_torch',
          m: t.m,
          k: t.k,
          n: t.n,
          transA: t.trans[0] === 'T',
          transB: t.trans[1] === 'T',
          threads: t.threads,
          gflops: t.gflops,
          ms_median: t.ms_median,
          ms_min: t.ms_min,
          ms_max: t.ms_max,
          ratio,
        },
        `torch ${t.m}x${t.k}x${t.n} ${t.trans}  ${t.gflops.toFixed(1)} GFLOP/s  median ${t.ms_median.toFixed(2)} ms ` +
          `[${t.ms_min.toFixed(2)}, ${t.ms_max.toFixed(2)}]  ours/torch ${ratio === null ? '-' : ratio.toFixed(3)}`,
      );
    }
  }
}

// `npx tsx src/bench/gemm.ts [--torch] [--bf16] [--text]` runs it directly.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  await benchGemm({ json: !args.includes('--text'), torch: args.includes('--torch'), bf16: args.includes('--bf16') });
}
