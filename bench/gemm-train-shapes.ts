/**
 * Per-shape GFLOP/s of the native fp32 GEMM on the exact products of one training step of T1/T2/T3 (every
 * linear layer's forward NT, input-gradient NN and weight-gradient TN), at 1 and 2 threads. With `--ab PATH`
 * a second build of the addon (e.g. the pre-change one) is loaded into the same process and the two are timed
 * interleaved (base, new, base, new, ...) so that load from other processes hits both alike. JSON lines:
 *   {"bench":"gemm_train","config":"T1","layer":"qkv","op":"dW","trans":"TN","m":..,"threads":2,"gflops":..}
 * Usage: node --import tsx bench/gemm-train-shapes.ts [--configs T1,T2] [--reps 31] [--ab /path/base.node]
 */
import { createRequire } from 'node:module';
import { loadNativeAddon, type NativeAddon } from '../src/backend/native.ts';

type Gemm = NonNullable<NativeAddon['gemm']>;
interface Shape {
  config: string;
  layer: string;
  op: string;
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
}

// rows = batch * ctx tokens; linear layers (in -> out) with W stored (out, in), as src/ops/matmul.ts calls them.
const CONFIGS: Record<string, { rows: number; d: number }> = {
  T1: { rows: 12 * 64, d: 128 },
  T2: { rows: 8 * 256, d: 384 },
  T3: { rows: 4 * 256, d: 768 },
};

function shapesOf(config: string): Shape[] {
  const { rows, d } = CONFIGS[config]!;
  const layers: [string, number, number][] = [
    ['qkv', d, 3 * d],
    ['proj', d, d],
    ['fc', d, 4 * d],
    ['fc2', 4 * d, d],
  ];
  const out: Shape[] = [];
  for (const [layer, fin, fout] of layers) {
    out.push({ config, layer, op: 'Y', m: rows, n: fout, k: fin, ta: false, tb: true });
    out.push({ config, layer, op: 'dX', m: rows, n: fin, k: fout, ta: false, tb: false });
    out.push({ config, layer, op: 'dW', m: fout, n: fin, k: rows, ta: true, tb: false });
  }
  return out;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function main(): void {
  const loaded = loadNativeAddon();
  if ('error' in loaded) throw new Error(`gemm-train-shapes: cannot load the native addon: ${loaded.error}`);
  const addons: { name: string; addon: NativeAddon }[] = [{ name: 'new', addon: loaded.addon }];
  const basePath = arg('ab');
  if (basePath) addons.unshift({ name: 'base', addon: createRequire(import.meta.url)(basePath) as NativeAddon });
  const configs = (arg('configs') ?? 'T1,T2,T3').split(',');
  const reps = Number(arg('reps') ?? 21);
  const threadList = (arg('threads') ?? '1,2').split(',').map(Number);
  for (const config of configs) {
    for (const s of shapesOf(config)) {
      const A = new Float32Array(s.m * s.k).map(() => Math.random() - 0.5);
      const B = new Float32Array(s.k * s.n).map(() => Math.random() - 0.5);
      const C = new Float32Array(s.m * s.n);
      for (const threads of threadList) {
        const times: number[][] = addons.map(() => []);
        const cpu: number[] = addons.map(() => 0);
        for (const a of addons) a.addon.setNumThreads(threads);
        const inner = Math.max(1, Math.round(2e8 / (2 * s.m * s.n * s.k))); // >= ~0.2 GFLOP per timing
        for (let r = -2; r < reps; r++) {
          addons.forEach((a, ai) => {
            const gemm = a.addon.gemm as Gemm;
            Atomics.wait(pause, 0, 0, 1); // 1 ms: lets the other build's idle workers stop spinning
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            for (let i = 0; i < inner; i++) gemm(A, B, C, 1, s.m, s.n, s.k, s.ta, s.tb, 0, 0, 0, 0);
            const dt = (performance.now() - t0) / inner;
            const dc = process.cpuUsage(c0);
            if (r >= 0) {
              times[ai]!.push(dt);
              cpu[ai]! += (dc.user + dc.system) / 1000 / inner;
            }
          });
        }
        const flops = 2 * s.m * s.n * s.k;
        const row: Record<string, unknown> = {
          bench: 'gemm_train',
          config,
          layer: s.layer,
          op: s.op,
          trans: `${s.ta ? 'T' : 'N'}${s.tb ? 'T' : 'N'}`,
          m: s.m,
          n: s.n,
          k: s.k,
          threads,
          reps,
        };
        addons.forEach((a, ai) => {
          const t = times[ai]!;
          row[`${a.name}_gflops`] = +(flops / (median(t) * 1e6)).toFixed(1);
          row[`${a.name}_us`] = [
            +(median(t) * 1e3).toFixed(1),
            +(Math.min(...t) * 1e3).toFixed(1),
            +(Math.max(...t) * 1e3).toFixed(1),
          ];
          row[`${a.name}_cpu_us`] = +((cpu[ai]! / reps) * 1e3).toFixed(1);
        });
        console.log(JSON.stringify(row));
      }
    }
  }
  for (const a of addons) a.addon.setNumThreads(2);
}

main();
