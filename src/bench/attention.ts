/**
 * Micro-benchmark of the native fused attention kernels: forward and backward on training shapes, forward on a
 * KV-cache decode step (Tq = 1). Prints one JSON line per measurement (`--json`) or a readable table.
 * GFLOP/s counts the useful work only: 4 * D flops per visible (query, key) pair for the forward (QK^T and PV),
 * 2.5 times that for the backward (the five matmuls of the standard backward; the native kernel recomputes P
 * and dP in a second pass, which is not counted). Optionally (`--torch`) times the same shapes with PyTorch
 * (eager softmax(QK^T)V, /usr/bin/python3) for comparison; tests never use PyTorch.
 *
 * Run: node --import tsx src/bench/attention.ts [--json] [--reps=N] [--torch]
 */
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { loadNativeAddon } from '../backend/native.ts';

interface Shape {
  B: number;
  Tq: number;
  Tk: number;
  Hq: number;
  Hkv: number;
  D: number;
  causal: boolean;
  qOffset: number;
}

const TRAIN: Shape[] = [
  { B: 8, Tq: 256, Tk: 256, Hq: 6, Hkv: 6, D: 64, causal: true, qOffset: 0 },
  { B: 4, Tq: 256, Tk: 256, Hq: 12, Hkv: 12, D: 64, causal: true, qOffset: 0 },
  { B: 4, Tq: 256, Tk: 256, Hq: 12, Hkv: 4, D: 64, causal: true, qOffset: 0 },
  { B: 1, Tq: 2048, Tk: 2048, Hq: 8, Hkv: 8, D: 64, causal: true, qOffset: 0 },
];
const DECODE: Shape[] = [
  { B: 1, Tq: 1, Tk: 1024, Hq: 12, Hkv: 12, D: 64, causal: true, qOffset: 1023 },
  { B: 4, Tq: 1, Tk: 1024, Hq: 12, Hkv: 12, D: 64, causal: true, qOffset: 1023 },
  { B: 4, Tq: 1, Tk: 1024, Hq: 32, Hkv: 8, D: 128, causal: true, qOffset: 1023 },
];

/** Visible (query, key) pairs of one head. */
function visiblePairs(s: Shape): number {
  if (!s.causal) return s.Tq * s.Tk;
  let n = 0;
  for (let i = 0; i < s.Tq; i++) n += Math.min(s.Tk, s.qOffset + i + 1);
  return n;
}

function stats(times: number[]): { median: number; min: number; max: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
}

function time(fn: () => void, reps: number): { median: number; min: number; max: number } {
  fn(); // warm-up: scratch buffers, page faults, thread pool
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return stats(times);
}

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    a[i] = x / 2 ** 31 - 1;
  }
  return a;
}

interface Row {
  impl: string;
  op: string;
  s: Shape;
  flops: number;
  t: { median: number; min: number; max: number };
}

function report(row: Row, json: boolean): void {
  const { s, t } = row;
  const gflops = row.flops / (t.median * 1e6);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        bench: 'ops',
        op: row.op,
        impl: row.impl,
        B: s.B,
        T: s.Tk,
        Tq: s.Tq,
        Tk: s.Tk,
        H: s.Hq,
        Hkv: s.Hkv,
        D: s.D,
        causal: s.causal,
        gflops: +gflops.toFixed(2),
        ms_median: +t.median.toFixed(3),
        ms_min: +t.min.toFixed(3),
        ms_max: +t.max.toFixed(3),
      })}\n`,
    );
  } else {
    const shape = `B=${s.B} Tq=${s.Tq} Tk=${s.Tk} H=${s.Hq}/${s.Hkv} D=${s.D}${s.causal ? ' causal' : ''}`;
    process.stdout.write(
      `${row.impl.padEnd(6)} ${row.op.padEnd(17)} ${shape.padEnd(42)} ` +
        `${gflops.toFixed(1).padStart(7)} GFLOP/s  median ${t.median.toFixed(3)} ms  [${t.min.toFixed(3)}, ${t.max.toFixed(3)}]\n`,
    );
  }
}

const TORCH_SCRIPT = `
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[2]))
for s in json.loads(sys.argv[1]):
    B, Tq, Tk, Hq, Hkv, D, reps = s['B'], s['Tq'], s['Tk'], s['Hq'], s['Hkv'], s['D'], s['reps']
    q = torch.randn(B, Hq, Tq, D, requires_grad=True)
    k = torch.randn(B, Hkv, Tk, D, requires_grad=True)
    v = torch.randn(B, Hkv, Tk, D, requires_grad=True)
    mask = torch.arange(Tk)[None, :] > (s['qOffset'] + torch.arange(Tq))[:, None]
    def fwd():
        kk = k.repeat_interleave(Hq // Hkv, dim=1); vv = v.repeat_interleave(Hq // Hkv, dim=1)
        att = (q @ kk.transpose(-1, -2)) * (D ** -0.5)
        att = att.masked_fill(mask, float('-inf')).softmax(-1)
        return att @ vv
    def timeit(fn):
        fn(); ts = []
        for _ in range(reps):
            t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
        return ts
    with torch.no_grad():
        f = timeit(fwd)
    out = {'fwd': f}
    if s['bwd']:
        g = torch.randn(B, Hq, Tq, D)
        def step():
            o = fwd(); o.backward(g)
        full = timeit(step)
        out['fwd_bwd'] = full
    print(json.dumps(out), flush=True)
`;

export async function benchAttention(opts: { json: boolean; reps?: number; torch?: boolean }): Promise<void> {
  const loaded = loadNativeAddon();
  if ('error' in loaded) {
    throw new Error(
      `benchAttention: the native addon could not be loaded (${loaded.error}). Run \`npm run build:native\`.`,
    );
  }
  const addon = loaded.addon;
  const reps = opts.reps ?? 10;
  if (!opts.json) {
    process.stdout.write(`attention bench: isa ${addon.cpuInfo().isa}, ${addon.numThreads()} threads, ${reps} reps\n`);
  }
  const plan = [...TRAIN.map((s) => ({ s, bwd: true })), ...DECODE.map((s) => ({ s, bwd: false }))];
  for (const { s, bwd } of plan) {
    const nq = s.B * s.Tq * s.Hq * s.D,
      nkv = s.B * s.Tk * s.Hkv * s.D;
    const q = fill(nq, 1),
      k = fill(nkv, 2),
      v = fill(nkv, 3),
      dout = fill(nq, 4);
    const out = new Float32Array(nq),
      lse = new Float32Array(s.B * s.Hq * s.Tq);
    const dq = new Float32Array(nq),
      dk = new Float32Array(nkv),
      dv = new Float32Array(nkv);
    const scale = 1 / Math.sqrt(s.D);
    const fwdFlops = 4 * s.D * visiblePairs(s) * s.B * s.Hq;
    const r = s.Tq * s.Tk >= 2048 * 2048 ? Math.max(3, Math.ceil(reps / 3)) : reps;
    const forward = () =>
      addon.attention!(q, k, v, out, lse, s.B, s.Tq, s.Tk, s.Hq, s.Hkv, s.D, scale, s.causal, s.qOffset, null, null);
    const op = bwd ? 'attention_fwd' : 'attention_decode';
    report({ impl: 'native', op, s, flops: fwdFlops, t: time(forward, bwd ? r : reps * 10) }, opts.json);
    if (bwd) {
      forward();
      const backward = () =>
        addon.attentionBackward!(
          q,
          k,
          v,
          out,
          lse,
          dout,
          dq,
          dk,
          dv,
          s.B,
          s.Tq,
          s.Tk,
          s.Hq,
          s.Hkv,
          s.D,
          scale,
          s.causal,
          s.qOffset,
          null,
          null,
        );
      report({ impl: 'native', op: 'attention_bwd', s, flops: 2.5 * fwdFlops, t: time(backward, r) }, opts.json);
    }
  }
  if (opts.torch) benchTorch(plan, reps, addon.numThreads(), opts.json);
}

/** Times the same shapes with PyTorch eager attention; the backward is each (fwd + bwd) sample minus the forward median. */
function benchTorch(plan: { s: Shape; bwd: boolean }[], reps: number, threads: number, json: boolean): void {
  const spec = plan.map(({ s, bwd }) => ({ ...s, bwd, reps: s.Tq * s.Tk >= 2048 * 2048 ? 3 : bwd ? reps : reps * 10 }));
  let stdout: string;
  try {
    stdout = execFileSync('/usr/bin/python3', ['-c', TORCH_SCRIPT, JSON.stringify(spec), String(threads)], {
      encoding: 'utf8',
    });
  } catch (e) {
    process.stderr.write(`WARNING: PyTorch comparison skipped: ${(e as Error).message.split('\n')[0]}\n`);
    return;
  }
  stdout
    .trim()
    .split('\n')
    .forEach((line, idx) => {
      const { s, bwd } = plan[idx]!;
      const res = JSON.parse(line) as { fwd: number[]; fwd_bwd?: number[] };
      const fwdFlops = 4 * s.D * visiblePairs(s) * s.B * s.Hq;
      const f = stats(res.fwd);
      report({ impl: 'torch', op: bwd ? 'attention_fwd' : 'attention_decode', s, flops: fwdFlops, t: f }, json);
      if (res.fwd_bwd !== undefined) {
        // Each fwd+bwd sample minus the forward median, so median/min/max stay ordered.
        const t = stats(res.fwd_bwd.map((x) => x - f.median));
        report({ impl: 'torch', op: 'attention_bwd', s, flops: 2.5 * fwdFlops, t }, json);
      }
    });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const repsArg = args.find((a) => a.startsWith('--reps='));
  await benchAttention({
    json: args.includes('--json'),
    torch: args.includes('--torch'),
    ...(repsArg !== undefined ? { reps: Number(repsArg.slice('--reps='.length)) } : {}),
  });
}
