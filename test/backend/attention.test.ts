/**
 * Fused attention: (a) the reference kernel against a naive full-matrix float64 implementation written here
 * (forward) and against central finite differences (backward); (b) the native kernel against the reference,
 * forward and backward, over a table of odd shapes and masks, once per instruction-set path. The ISA is fixed
 * per process (LLMFORGE_ISA is read once), so each path runs in a child process that re-executes this file
 * in worker mode and prints its measurements as JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FloatArray } from '../../src/backend/backend.ts';
import { loadNativeAddon, type NativeAddon } from '../../src/backend/native.ts';
import { attention, attentionBackward } from '../../src/backend/reference/attention.ts';

// ---- fixtures -------------------------------------------------------------------------------------------------

/** Deterministic uniform generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randn<T extends FloatArray>(make: (n: number) => T, n: number, next: () => number): T {
  const out = make(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(next(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

interface Case {
  name: string;
  B: number;
  Tq: number;
  Tk: number;
  Hq: number;
  Hkv: number;
  D: number;
  causal: boolean;
  qOffset: number;
  /** Segment id of query row i / key j of batch row b (both given, or neither). */
  segQ?: (b: number, i: number) => number;
  segK?: (b: number, j: number) => number;
  /** Query row (b, i, h) to poison with a NaN in its first element: its out, lse and dq must be NaN. */
  nanQ?: [number, number, number];
}

interface Inputs<T extends FloatArray> {
  q: T;
  k: T;
  v: T;
  dout: T;
  segQ: Int32Array | null;
  segK: Int32Array | null;
  scale: number;
}

function makeInputs<T extends FloatArray>(c: Case, make: (n: number) => T, seed: number): Inputs<T> {
  const next = rng(seed);
  const nq = c.B * c.Tq * c.Hq * c.D,
    nkv = c.B * c.Tk * c.Hkv * c.D;
  let segQ: Int32Array | null = null,
    segK: Int32Array | null = null;
  if (c.segQ !== undefined && c.segK !== undefined) {
    segQ = new Int32Array(c.B * c.Tq);
    segK = new Int32Array(c.B * c.Tk);
    for (let b = 0; b < c.B; b++) {
      for (let i = 0; i < c.Tq; i++) segQ[b * c.Tq + i] = c.segQ(b, i);
      for (let j = 0; j < c.Tk; j++) segK[b * c.Tk + j] = c.segK(b, j);
    }
  }
  const q = randn(make, nq, next);
  if (c.nanQ !== undefined) q[((c.nanQ[0] * c.Tq + c.nanQ[1]) * c.Hq + c.nanQ[2]) * c.D] = Number.NaN;
  return {
    q,
    k: randn(make, nkv, next),
    v: randn(make, nkv, next),
    dout: randn(make, nq, next),
    segQ,
    segK,
    scale: 1 / Math.sqrt(c.D),
  };
}

// Packing: three documents per row, boundaries depend on the batch index. Padding: keys past `len` are pad.
const packed = (b: number, pos: number): number => (pos < 40 + b * 7 ? 0 : pos < 90 - b * 5 ? 1 : 2);
const padLen = (b: number): number => 100 - 31 * b;

const CASES: Case[] = [
  { name: 'T1 D1 causal', B: 2, Tq: 1, Tk: 1, Hq: 1, Hkv: 1, D: 1, causal: true, qOffset: 0 },
  { name: 'T3 D3 GQA causal', B: 1, Tq: 3, Tk: 3, Hq: 4, Hkv: 2, D: 3, causal: true, qOffset: 0 },
  { name: 'T17 D17 GQA full', B: 2, Tq: 17, Tk: 17, Hq: 4, Hkv: 2, D: 17, causal: false, qOffset: 0 },
  { name: 'T127 D64 GQA causal', B: 1, Tq: 127, Tk: 127, Hq: 4, Hkv: 2, D: 64, causal: true, qOffset: 0 },
  { name: 'T130 D64 MHA causal', B: 2, Tq: 130, Tk: 130, Hq: 2, Hkv: 2, D: 64, causal: true, qOffset: 0 },
  { name: 'T130 D3 MQA full', B: 1, Tq: 130, Tk: 130, Hq: 4, Hkv: 1, D: 3, causal: false, qOffset: 0 },
  { name: 'T127 D17 MHA causal', B: 1, Tq: 127, Tk: 127, Hq: 3, Hkv: 3, D: 17, causal: true, qOffset: 0 },
  { name: 'T130 D1 GQA causal', B: 1, Tq: 130, Tk: 130, Hq: 4, Hkv: 2, D: 1, causal: true, qOffset: 0 },
  { name: 'decode Tk130 D64 GQA', B: 2, Tq: 1, Tk: 130, Hq: 4, Hkv: 2, D: 64, causal: true, qOffset: 129 },
  { name: 'decode Tk300 D17 G8', B: 1, Tq: 1, Tk: 300, Hq: 8, Hkv: 1, D: 17, causal: true, qOffset: 299 },
  { name: 'decode 2 rows Tk70', B: 1, Tq: 2, Tk: 70, Hq: 2, Hkv: 1, D: 3, causal: true, qOffset: 68 },
  { name: 'chunked prefill Tq17 Tk130', B: 1, Tq: 17, Tk: 130, Hq: 4, Hkv: 2, D: 64, causal: true, qOffset: 113 },
  { name: 'chunked prefill Tq3 Tk127 D3', B: 2, Tq: 3, Tk: 127, Hq: 4, Hkv: 2, D: 3, causal: true, qOffset: 124 },
  { name: 'cross Tq17 Tk130 full', B: 1, Tq: 17, Tk: 130, Hq: 2, Hkv: 2, D: 17, causal: false, qOffset: 0 },
  {
    name: 'packed segments causal',
    B: 2,
    Tq: 130,
    Tk: 130,
    Hq: 4,
    Hkv: 2,
    D: 17,
    causal: true,
    qOffset: 0,
    segQ: packed,
    segK: packed,
  },
  {
    name: 'padding full (pad queries see nothing)',
    B: 3,
    Tq: 127,
    Tk: 127,
    Hq: 2,
    Hkv: 1,
    D: 64,
    causal: false,
    qOffset: 0,
    segQ: (b, i) => (i < padLen(b) ? 0 : -1),
    segK: (b, j) => (j < padLen(b) ? 0 : -2),
  },
  {
    name: 'left padding causal (leading rows fully masked)',
    B: 2,
    Tq: 130,
    Tk: 130,
    Hq: 4,
    Hkv: 2,
    D: 17,
    causal: true,
    qOffset: 0,
    segQ: (b, i) => (i < 5 + 60 * b ? -1 : 0),
    segK: (b, j) => (j < 5 + 60 * b ? -2 : 0),
  },
  {
    name: 'decode with segments',
    B: 2,
    Tq: 1,
    Tk: 130,
    Hq: 2,
    Hkv: 2,
    D: 64,
    causal: true,
    qOffset: 129,
    segQ: (b) => b,
    segK: (b, j) => (j < 30 + 50 * b ? 9 : b),
  },
  {
    name: 'decode row that sees no key',
    B: 1,
    Tq: 1,
    Tk: 17,
    Hq: 2,
    Hkv: 1,
    D: 3,
    causal: true,
    qOffset: 16,
    segQ: () => 5,
    segK: () => 6,
  },
  { name: 'no keys', B: 1, Tq: 3, Tk: 0, Hq: 2, Hkv: 2, D: 3, causal: false, qOffset: 0 },
  // A NaN query row propagates (out, lse and dq NaN) instead of reading as a row that sees no key. Full attention
  // and a decode row see every key, so the NaN keys of dK/dV are the same on both backends.
  {
    name: 'NaN query row, full',
    B: 2,
    Tq: 17,
    Tk: 17,
    Hq: 4,
    Hkv: 2,
    D: 17,
    causal: false,
    qOffset: 0,
    nanQ: [1, 5, 2],
  },
  {
    name: 'NaN query row, T130 D64 full',
    B: 1,
    Tq: 130,
    Tk: 130,
    Hq: 2,
    Hkv: 1,
    D: 64,
    causal: false,
    qOffset: 0,
    nanQ: [0, 70, 1],
  },
  {
    name: 'NaN query row, decode',
    B: 2,
    Tq: 1,
    Tk: 130,
    Hq: 4,
    Hkv: 2,
    D: 64,
    causal: true,
    qOffset: 129,
    nanQ: [0, 0, 3],
  },
];

// ---- the naive full-matrix implementation (float64, written independently of the reference) ----------------

function naiveAttention(c: Case, x: Inputs<Float64Array>): { out: Float64Array; lse: Float64Array } {
  const { B, Tq, Tk, Hq, Hkv, D } = c;
  const out = new Float64Array(B * Tq * Hq * D);
  const lse = new Float64Array(B * Hq * Tq);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor((h * Hkv) / Hq);
      // The full (Tq, Tk) score matrix of this head, masked with -Infinity.
      const S: number[][] = [];
      for (let i = 0; i < Tq; i++) {
        S.push([]);
        for (let j = 0; j < Tk; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++)
            dot += x.q[((b * Tq + i) * Hq + h) * D + d]! * x.k[((b * Tk + j) * Hkv + g) * D + d]!;
          const causalOk = !c.causal || j <= c.qOffset + i;
          const segOk = x.segQ === null || x.segQ[b * Tq + i] === x.segK![b * Tk + j];
          S[i]!.push(causalOk && segOk ? dot * x.scale : -Infinity);
        }
      }
      for (let i = 0; i < Tq; i++) {
        const row = S[i]!;
        const max = Math.max(-Infinity, ...row);
        const e = row.map((s) => (s === -Infinity ? 0 : Math.exp(s - max)));
        const sum = e.reduce((acc, p) => acc + p, 0);
        lse[(b * Hq + h) * Tq + i] = sum === 0 ? -Infinity : max + Math.log(sum);
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < Tk; j++) if (sum !== 0) acc += (e[j]! / sum) * x.v[((b * Tk + j) * Hkv + g) * D + d]!;
          out[((b * Tq + i) * Hq + h) * D + d] = acc;
        }
      }
    }
  }
  return { out, lse };
}

// ---- comparison helpers -------------------------------------------------------------------------------------

/** Largest |a - b| / (atol/rtol + |b|) ratio form: returns max over i of |a_i - b_i| / (1 + |b_i|). */
function maxMixedErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!,
      y = b[i]!;
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue; // covers matching infinities and NaNs
    if (!Number.isFinite(x) || !Number.isFinite(y)) return Infinity;
    worst = Math.max(worst, Math.abs(x - y) / (1 + Math.abs(y)));
  }
  return worst;
}

function runForward<T extends FloatArray>(
  fn: typeof attention,
  c: Case,
  x: Inputs<FloatArray>,
  make: (n: number) => T,
) {
  const out = make(c.B * c.Tq * c.Hq * c.D);
  const lse = make(c.B * c.Hq * c.Tq);
  fn(x.q, x.k, x.v, out, lse, c.B, c.Tq, c.Tk, c.Hq, c.Hkv, c.D, x.scale, c.causal, c.qOffset, x.segQ, x.segK);
  return { out, lse };
}

function runBackward<T extends FloatArray>(
  fn: typeof attentionBackward,
  c: Case,
  x: Inputs<FloatArray>,
  fwd: { out: FloatArray; lse: FloatArray },
  make: (n: number) => T,
) {
  const dq = make(x.q.length),
    dk = make(x.k.length),
    dv = make(x.v.length);
  fn(
    x.q,
    x.k,
    x.v,
    fwd.out,
    fwd.lse,
    x.dout,
    dq,
    dk,
    dv,
    c.B,
    c.Tq,
    c.Tk,
    c.Hq,
    c.Hkv,
    c.D,
    x.scale,
    c.causal,
    c.qOffset,
    x.segQ,
    x.segK,
  );
  return { dq, dk, dv };
}

const f64 = (n: number) => new Float64Array(n);
const f32 = (n: number) => new Float32Array(n);

// ---- worker mode: native vs reference on this process's ISA --------------------------------------------------

interface CaseResult {
  name: string;
  out: number;
  lse: number;
  dq: number;
  dk: number;
  dv: number;
}

function parity(addon: NativeAddon): CaseResult[] {
  const results: CaseResult[] = [];
  CASES.forEach((c, idx) => {
    const x = makeInputs(c, f32, 1000 + idx);
    const ref = runForward(attention, c, x, f64);
    const nat = runForward(addon.attention!, c, x, f32);
    const refGrad = runBackward(attentionBackward, c, x, ref, f64);
    const natGrad = runBackward(addon.attentionBackward!, c, x, nat, f32);
    results.push({
      name: c.name,
      out: maxMixedErr(nat.out, ref.out),
      lse: maxMixedErr(nat.lse, ref.lse),
      dq: maxMixedErr(natGrad.dq, refGrad.dq),
      dk: maxMixedErr(natGrad.dk, refGrad.dk),
      dv: maxMixedErr(natGrad.dv, refGrad.dv),
    });
  });
  return results;
}

const WORKER_ENV = 'LLMFORGE_ATTENTION_TEST_WORKER';

if (process.env[WORKER_ENV] === '1') {
  const loaded = loadNativeAddon();
  if ('error' in loaded) throw new Error(`native addon not loadable: ${loaded.error}`);
  const { addon } = loaded;
  process.stdout.write(`${JSON.stringify({ isa: addon.cpuInfo().isa, results: parity(addon) })}\n`);
} else {
  // ---- (a) reference vs the naive implementation and finite differences --------------------------------------

  test('reference forward matches the naive full-matrix float64 implementation', () => {
    CASES.forEach((c, idx) => {
      const x = makeInputs(c, f64, 2000 + idx);
      const naive = naiveAttention(c, x);
      const ref = runForward(attention, c, x, f64);
      assert.ok(maxMixedErr(ref.out, naive.out) < 1e-12, `${c.name}: out differs`);
      assert.ok(maxMixedErr(ref.lse, naive.lse) < 1e-12, `${c.name}: lse differs`);
    });
  });

  test('reference forward: a row that sees no key gets out 0 and lse -Infinity', () => {
    const c = CASES.find((x) => x.name === 'left padding causal (leading rows fully masked)')!;
    const x = makeInputs(c, f64, 7);
    const { out, lse } = runForward(attention, c, x, f64);
    assert.equal(lse[0], -Infinity); // b 0, h 0, i 0 is padding
    for (let d = 0; d < c.D; d++) assert.equal(out[d], 0);
  });

  test('reference forward and backward: a NaN query row gives NaN out, lse and dq, not a row that sees no key', () => {
    for (const c of CASES.filter((x) => x.nanQ !== undefined)) {
      const x = makeInputs(c, f64, 5);
      const fwd = runForward(attention, c, x, f64);
      const { dq } = runBackward(attentionBackward, c, x, fwd, f64);
      const [b, i, h] = c.nanQ!;
      const row = ((b * c.Tq + i) * c.Hq + h) * c.D;
      assert.ok(Number.isNaN(fwd.lse[(b * c.Hq + h) * c.Tq + i]!), `${c.name}: lse`);
      for (let d = 0; d < c.D; d++) {
        assert.ok(Number.isNaN(fwd.out[row + d]!), `${c.name}: out[${d}] = ${fwd.out[row + d]}`);
        assert.ok(Number.isNaN(dq[row + d]!), `${c.name}: dq[${d}] = ${dq[row + d]}`);
      }
      const nans = Array.from(fwd.out).filter(Number.isNaN).length;
      assert.equal(nans, c.D, `${c.name}: only the poisoned row is NaN`);
    }
  });

  const GRAD_CASES: Case[] = [
    { name: 'causal GQA', B: 1, Tq: 4, Tk: 4, Hq: 4, Hkv: 2, D: 3, causal: true, qOffset: 0 },
    { name: 'full MHA', B: 2, Tq: 3, Tk: 5, Hq: 2, Hkv: 2, D: 2, causal: false, qOffset: 0 },
    { name: 'chunk qOffset 2', B: 1, Tq: 3, Tk: 5, Hq: 2, Hkv: 1, D: 3, causal: true, qOffset: 2 },
    {
      name: 'segments with a dead row',
      B: 2,
      Tq: 5,
      Tk: 5,
      Hq: 2,
      Hkv: 1,
      D: 2,
      causal: true,
      qOffset: 0,
      segQ: (b, i) => (i === 0 && b === 1 ? 7 : i < 2 ? 0 : 1),
      segK: (_b, j) => (j < 2 ? 0 : 1),
    },
  ];

  test('reference backward matches central finite differences of sum(out * R) in float64', () => {
    GRAD_CASES.forEach((c, idx) => {
      const x = makeInputs(c, f64, 3000 + idx);
      const R = x.dout; // the loss is sum(out * R), so dL/dout = R
      const loss = (): number => {
        const { out } = runForward(attention, c, x, f64);
        let s = 0;
        for (let i = 0; i < out.length; i++) s += out[i]! * R[i]!;
        return s;
      };
      const fwd = runForward(attention, c, x, f64);
      const grads = runBackward(attentionBackward, c, x, fwd, f64);
      const eps = 1e-5;
      for (const [name, param, grad] of [
        ['dq', x.q, grads.dq],
        ['dk', x.k, grads.dk],
        ['dv', x.v, grads.dv],
      ] as const) {
        for (let i = 0; i < param.length; i++) {
          const saved = param[i]!;
          param[i] = saved + eps;
          const up = loss();
          param[i] = saved - eps;
          const down = loss();
          param[i] = saved;
          const fd = (up - down) / (2 * eps);
          const err = Math.abs(grad[i]! - fd) / Math.max(Math.abs(fd), Math.abs(grad[i]!), 1e-3);
          assert.ok(err < 1e-6, `${c.name}: ${name}[${i}] analytic ${grad[i]} vs finite difference ${fd}`);
        }
      }
    });
  });

  test('reference backward: rows that see no key get zero dq', () => {
    const c = GRAD_CASES[3]!;
    const x = makeInputs(c, f64, 11);
    const fwd = runForward(attention, c, x, f64);
    const { dq } = runBackward(attentionBackward, c, x, fwd, f64);
    const row = ((1 * c.Tq + 0) * c.Hq + 0) * c.D; // b 1, i 0: segment 7 matches no key
    assert.equal(fwd.lse[(1 * c.Hq + 0) * c.Tq + 0], -Infinity);
    for (let d = 0; d < c.D; d++) assert.equal(dq[row + d], 0);
  });

  // ---- (b) native vs reference, per ISA ------------------------------------------------------------------------

  const loaded = loadNativeAddon();
  const skip = 'error' in loaded ? `native addon not built (${loaded.error}); run \`npm run build:native\`` : false;
  const TOL = 2e-5;

  // The backward has two schedules (attention_backward_groups.cc: one pass per (b, kv head); attention.cc: a dK/dV
  // pass and a dQ pass); the default picks by shape, so each is forced here.
  for (const [isa, bwd] of [
    ['scalar', 'split'],
    ['scalar', 'groups'],
    ['avx512', 'split'],
    ['avx512', 'groups'],
  ] as const) {
    test(`native attention matches the reference (LLMFORGE_ISA=${isa}, LLMFORGE_ATTN_BACKWARD=${bwd})`, {
      skip,
    }, (t) => {
      if ('error' in loaded) return;
      if (isa === 'avx512' && !loaded.addon.cpuInfo().avx512) {
        t.skip('this CPU has no AVX-512');
        return;
      }
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
        env: { ...process.env, [WORKER_ENV]: '1', LLMFORGE_ISA: isa, LLMFORGE_ATTN_BACKWARD: bwd },
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { isa: string; results: CaseResult[] };
      assert.equal(report.isa, isa, 'the worker ran on a different ISA than requested');
      assert.equal(report.results.length, CASES.length);
      for (const r of report.results) {
        t.diagnostic(
          `${r.name}: out ${r.out.toExponential(1)} lse ${r.lse.toExponential(1)} dq ${r.dq.toExponential(1)} ` +
            `dk ${r.dk.toExponential(1)} dv ${r.dv.toExponential(1)}`,
        );
        for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const) {
          assert.ok(r[key] <= TOL, `${isa} ${r.name}: ${key} differs from the reference by ${r[key]} (> ${TOL})`);
        }
      }
    });
  }

  test('native attention rejects bad arguments with a clear message', { skip }, () => {
    if ('error' in loaded) return;
    const a = loaded.addon;
    const z = new Float32Array(64);
    assert.throws(
      () => a.attention!(z, z, z, z, z, 1, 2, 2, 3, 2, 4, 0.5, true, 0, null, null),
      /Hq \(3\) must be a positive multiple of Hkv \(2\)/,
    );
    assert.throws(
      () => a.attention!(z, z, z, z, z, 1, 20, 2, 2, 2, 4, 0.5, true, 0, null, null),
      /argument 0 has 64 elements, needs at least 160/,
    );
    assert.throws(
      () => a.attention!(z, z, z, z, new Float64Array(4), 1, 2, 2, 2, 2, 4, 0.5, true, 0, null, null),
      /argument 4 must be a Float32Array, received a Float64Array/,
    );
  });
}
