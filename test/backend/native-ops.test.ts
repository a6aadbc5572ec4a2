/**
 * Parity tests for the native non-GEMM kernels (native/src/ops*.cc) against small, independent float64
 * implementations written here: every Backend method except gemm and attention, on odd shapes (1, 3, 17, 127,
 * sizes that are not multiples of the vector width), broadcasting and size-1 dims, edge values (huge logits,
 * ignoreIndex rows, p = 0 / 1 dropout) and sizes large enough to run on several threads. The suite runs once
 * in this process (the best ISA) and once more in a child process per other ISA (LLMFORGE_ISA=scalar|avx2),
 * because the dispatch is fixed at process start. It also checks that bad arguments throw clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Binary, Unary, type Backend } from '../../src/backend/backend.ts';
import { dropoutThreshold, hash32 } from '../../src/backend/hash.ts';
import { loadNativeAddon, type NativeAddon } from '../../src/backend/native.ts';

const loaded = loadNativeAddon();
const skip = 'error' in loaded ? `native addon not built (${loaded.error}); run npm run build:native` : false;
const addon = ('addon' in loaded ? loaded.addon : null) as (NativeAddon & Omit<Backend, 'name'>) | null;
const isChild = process.env.LF_OPS_TEST_CHILD === '1';

function nb(): Omit<Backend, 'name'> {
  assert.ok(addon !== null);
  return addon;
}

// ---- helpers ----------------------------------------------------------------------------------------------------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randArray(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

function randInts(n: number, lo: number, hi: number, seed: number): Int32Array {
  const r = rng(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor((hi - lo) * r());
  return a;
}

/** |actual - expected| <= atol + rtol * |expected| elementwise (NaN must match NaN); reports the worst element. */
function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(e) && Number.isNaN(a))) {
        worst = i;
        worstExcess = Infinity;
        break;
      }
      continue;
    }
    if (a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess || (excess > 0 && worst < 0)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

function assertEqualArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  assertClose(actual, expected, 0, 0, label);
}

/** erfc in float64: series for small z, continued fraction for large z (relative error ~1e-14). */
function erfc64(z: number): number {
  if (z < 0) return 2 - erfc64(-z);
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 80; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let k = 120; k >= 1; k--) f = k / 2 / (z + f);
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + f);
}

const phi64 = (x: number): number => 0.5 * erfc64(-x / Math.SQRT2);
const sigmoid64 = (x: number): number => 1 / (1 + Math.exp(-x));
const K = Math.sqrt(2 / Math.PI);
/** gelu tanh = 0.5x(1 + tanh(u)) written as x * sigmoid(2u) (same function; no float64 cancellation). */
const geluTanh64 = (x: number): number => x * sigmoid64(2 * K * (x + 0.044715 * x ** 3));

const unaryRef: Record<
  keyof typeof Unary,
  { f: (x: number) => number; df: (x: number, y: number) => number; lo: number; hi: number }
> = {
  neg: { f: (x) => -x, df: () => -1, lo: -5, hi: 5 },
  exp: { f: Math.exp, df: (_x, y) => y, lo: -30, hi: 30 },
  log: { f: Math.log, df: (x) => 1 / x, lo: 1e-3, hi: 50 },
  sqrt: { f: Math.sqrt, df: (_x, y) => 0.5 / y, lo: 1e-3, hi: 50 },
  tanh: { f: Math.tanh, df: (_x, y) => 1 - y * y, lo: -8, hi: 8 },
  // biome-ignore lint/complexity/useMathMinMax: written like the reference backend's relu; Math.max differs on NaN
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0), lo: -3, hi: 3 },
  geluTanh: {
    f: geluTanh64,
    // 0.5 (1 + t) + 0.5 x (1 - t^2) u' with t = tanh(u) = 2s - 1, s = sigmoid(2u) (no cancellation)
    df: (x) => {
      const s = sigmoid64(2 * K * (x + 0.044715 * x ** 3));
      return s + 2 * x * s * (1 - s) * K * (1 + 3 * 0.044715 * x * x);
    },
    lo: -8,
    hi: 8,
  },
  geluErf: {
    f: (x) => x * phi64(x),
    df: (x) => phi64(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI),
    lo: -8,
    hi: 8,
  },
  silu: { f: (x) => x * sigmoid64(x), df: (x) => sigmoid64(x) * (1 + x * (1 - sigmoid64(x))), lo: -20, hi: 20 },
  sigmoid: { f: sigmoid64, df: (_x, y) => y * (1 - y), lo: -20, hi: 20 },
  abs: { f: Math.abs, df: (x) => Math.sign(x), lo: -5, hi: 5 },
};

/** Relative error <= 1e-6 * max(1, |x f'(x) / f(x)|) (the float32 argument rounding any implementation has). */
function assertCloseConditioned(out: Float32Array, x: Float32Array, name: keyof typeof Unary, label: string): void {
  const ref = unaryRef[name];
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const e = ref.f(v);
    if (e === 0 || !Number.isFinite(e)) continue;
    const cond = Math.max(1, Math.abs((v * ref.df(v, e)) / e));
    const rel = Math.abs(out[i]! - e) / Math.abs(e);
    if (!(rel <= 1e-6 * cond) && Math.abs(e) > 1e-37)
      assert.fail(
        `${label}: f(${v}) = ${out[i]}, expected ${e} (rel ${rel.toExponential(2)}, cond ${cond.toFixed(1)})`,
      );
  }
}

const SIZES = [1, 3, 17, 127, 1001, 70001];

// ---- ISA dispatch ------------------------------------------------------------------------------------------------

test('dispatch honours LLMFORGE_ISA', { skip }, () => {
  const info = addon!.cpuInfo();
  const want = process.env.LLMFORGE_ISA;
  if (want === 'scalar') assert.equal(info.isa, 'scalar');
  else if (want === 'avx2' && info.avx2) assert.equal(info.isa, 'avx2');
  else if (info.avx512) assert.equal(info.isa, 'avx512');
});

if (!isChild) {
  for (const isa of ['scalar', 'avx2']) {
    test(`whole suite under LLMFORGE_ISA=${isa} (child process)`, { skip }, () => {
      const file = fileURLToPath(import.meta.url);
      const env: NodeJS.ProcessEnv = { ...process.env, LLMFORGE_ISA: isa, LF_OPS_TEST_CHILD: '1' };
      delete env.NODE_TEST_CONTEXT; // run as a plain script, not as a worker of this test runner
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
        env,
        encoding: 'utf8',
        timeout: 300_000,
      });
      const output = r.stdout + r.stderr;
      assert.equal(r.status, 0, `LLMFORGE_ISA=${isa} suite failed:\n${output.slice(-6000)}`);
      assert.match(output, /# pass [1-9]/, `LLMFORGE_ISA=${isa}: the child ran no tests:\n${output.slice(-2000)}`);
      assert.match(output, /# fail 0/, `LLMFORGE_ISA=${isa}:\n${output.slice(-6000)}`);
    });
  }
}

// The kernel tests below run in this process at the best ISA the CPU has, and again in each child above.
const kskip = skip;

// ---- elementwise ---------------------------------------------------------------------------------------------

test('unary forward matches float64 on every op and size', { skip: kskip }, () => {
  for (const [name, code] of Object.entries(Unary)) {
    const ref = unaryRef[name as keyof typeof Unary];
    for (const n of SIZES) {
      const x = randArray(n, ref.lo, ref.hi, n + code * 1000);
      const out = new Float32Array(n);
      nb().unary(code, x, out, n);
      if (name === 'geluTanh' || name === 'geluErf' || name === 'silu') {
        assertCloseConditioned(out, x, name as keyof typeof Unary, `unary ${name} n=${n}`);
      } else {
        assertClose(
          out,
          Array.from(x, (v) => ref.f(v)),
          2e-6,
          1e-30,
          `unary ${name} n=${n}`,
        );
      }
    }
  }
});

test('vector exp/tanh/gelu/sigmoid keep relative error < 1e-6 over their whole range', { skip: kskip }, () => {
  const cases: [keyof typeof Unary, number, number][] = [
    ['exp', -103, 88.7],
    ['tanh', -12, 12],
    ['geluErf', -12, 12],
    ['geluTanh', -12, 12],
    ['sigmoid', -80, 80],
    ['silu', -80, 80],
  ];
  for (const [name, lo, hi] of cases) {
    const n = 400_003;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = lo + ((hi - lo) * i) / (n - 1);
    const out = new Float32Array(n);
    nb().unary(Unary[name], x, out, n);
    const exp = Array.from(x, (v) => unaryRef[name].f(v));
    if (name === 'exp' || name === 'tanh' || name === 'sigmoid') {
      assertClose(out, exp, 1e-6, 1e-37, `${name} dense grid`);
    } else {
      // gelu/silu round internal arguments (x^3, x^2, 2u) in float32: allow 1e-6 times the condition number.
      assertCloseConditioned(out, x, name, `${name} dense grid`);
    }
  }
  const special = new Float32Array([0, -0, Infinity, -Infinity, NaN, 88.8, 89, -104, -1e4, 1e4]);
  const out = new Float32Array(special.length);
  nb().unary(Unary.exp, special, out, special.length);
  assertEqualArrays(out, [1, 1, Infinity, 0, NaN, Infinity, Infinity, 0, 0, Infinity], 'exp specials');
  nb().unary(Unary.tanh, special, out, special.length);
  assertEqualArrays(out, [0, -0, 1, -1, NaN, 1, 1, -1, -1, 1], 'tanh specials');
  nb().unary(Unary.relu, special, out, special.length);
  assertEqualArrays(out, [0, 0, Infinity, 0, NaN, 88.80000305175781, 89, 0, 0, 1e4], 'relu specials');
});

test('unaryBackward matches float64 derivatives', { skip: kskip }, () => {
  for (const [name, code] of Object.entries(Unary)) {
    const ref = unaryRef[name as keyof typeof Unary];
    for (const n of [1, 17, 127, 70001]) {
      const x = randArray(n, ref.lo, ref.hi, 7 * n + code);
      if (name === 'relu' || name === 'abs') x[0] = 0; // relu'(0) = 0 and sign(0) = 0
      const y = new Float32Array(n);
      nb().unary(code, x, y, n);
      const dy = randArray(n, -2, 2, n + 99);
      const dx = new Float32Array(n);
      nb().unaryBackward(code, x, y, dy, dx, n);
      const exp = Array.from(x, (v, i) => dy[i]! * ref.df(v, y[i]!));
      assertClose(dx, exp, 2e-5, 1e-6, `unaryBackward ${name} n=${n}`);
    }
  }
});

test('affine and powScalar, including in place', { skip: kskip }, () => {
  for (const n of SIZES) {
    const x = randArray(n, 0.01, 4, n);
    const out = new Float32Array(n);
    nb().affine(x, out, n, -1.5, 0.25);
    assertClose(
      out,
      Array.from(x, (v) => v * -1.5 + 0.25),
      1e-6,
      1e-7,
      `affine n=${n}`,
    );
    for (const p of [2, 0.5, -1, 3, 1.7, 0, 1, -2.5]) {
      nb().powScalar(x, out, n, p);
      assertClose(
        out,
        Array.from(x, (v) => v ** p),
        2e-6,
        0,
        `powScalar p=${p} n=${n}`,
      );
    }
    const y = x.slice();
    nb().affine(y, y, n, 2, 1);
    assertClose(
      y,
      Array.from(x, (v) => 2 * v + 1),
      1e-6,
      0,
      `affine in place n=${n}`,
    );
  }
});

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}

/** Element strides of an operand of shape `opShape` (right-aligned) broadcast to `outShape`. */
function broadcastStrides(opShape: number[], outShape: number[]): Int32Array {
  const own = contiguousStrides(opShape);
  const out = new Int32Array(outShape.length);
  for (let d = 0; d < outShape.length; d++) {
    const k = d - (outShape.length - opShape.length);
    out[d] = k < 0 || opShape[k] === 1 ? 0 : own[k]!;
  }
  return out;
}

function binaryRef(op: number, a: number, b: number): number {
  switch (op) {
    case Binary.add:
      return a + b;
    case Binary.sub:
      return a - b;
    case Binary.mul:
      return a * b;
    case Binary.div:
      return a / b;
    case Binary.max:
      return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    default:
      return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
  }
}

/** Reference strided walk over the output index space; exact float32 results (one rounding per op). */
function stridedRef(shape: number[], fn: (offsets: number[], linear: number) => void, strides: number[][]): void {
  const numel = shape.reduce((p, v) => p * v, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let lin = 0; lin < numel; lin++) {
    fn(
      strides.map((s) => idx.reduce((acc, v, d) => acc + v * s[d]!, 0)),
      lin,
    );
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

test('binary: broadcasting over ranks 0..8, size-1 dims, every op, exact float32 results', { skip: kskip }, () => {
  const cases: [number[], number[], number[]][] = [
    [
      [3, 17, 5],
      [3, 17, 5],
      [3, 17, 5],
    ], // same shape
    [[300, 257], [300, 257], [257]], // b broadcast along rows
    [[129, 768], [129, 768], [768]],
    [
      [127, 3],
      [127, 3],
      [127, 1],
    ], // column broadcast
    [[17], [17], []], // scalar b
    [[17], [], [17]], // scalar a
    [[], [], []], // rank 0
    [
      [4, 5, 7],
      [4, 1, 7],
      [1, 5, 1],
    ], // both broadcast
    [[1, 1, 3], [1, 1, 3], [3]],
    [
      [2, 1, 3, 1, 2, 3, 1, 2],
      [2, 1, 3, 1, 2, 3, 1, 2],
      [1, 1, 3, 1, 1, 3, 1, 2],
    ], // rank 8
    [[5, 0, 3], [5, 0, 3], [3]], // empty
  ];
  for (const [outShape, aShape, bShape] of cases) {
    const numel = outShape.reduce((p, v) => p * v, 1);
    const aN = aShape.reduce((p, v) => p * v, 1);
    const bN = bShape.reduce((p, v) => p * v, 1);
    const a = randArray(aN, -3, 3, aN + 1);
    const b = randArray(bN, 0.5, 3, bN + 2);
    const as = broadcastStrides(aShape, outShape);
    const bs = broadcastStrides(bShape, outShape);
    for (const op of Object.values(Binary)) {
      const out = new Float32Array(numel);
      nb().binary(op, a, as, b, bs, out, new Int32Array(outShape));
      const exp = new Float32Array(numel);
      stridedRef(
        outShape,
        ([oa, ob], lin) => {
          exp[lin] = binaryRef(op, a[oa!]!, b[ob!]!);
        },
        [Array.from(as), Array.from(bs)],
      );
      assertEqualArrays(
        out,
        exp,
        `binary op ${op} out ${JSON.stringify(outShape)} a ${JSON.stringify(aShape)} b ${JSON.stringify(bShape)}`,
      );
    }
  }
});

test('binary: transposed (non-contiguous) operand and NaN propagation of max/min', { skip: kskip }, () => {
  const M = 19,
    N = 33;
  const a = randArray(M * N, -1, 1, 5); // stored (N, M), read transposed as (M, N)
  const b = randArray(M * N, -1, 1, 6);
  const out = new Float32Array(M * N);
  nb().binary(Binary.sub, a, new Int32Array([1, M]), b, new Int32Array([N, 1]), out, new Int32Array([M, N]));
  const exp = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) exp[i * N + j] = a[j * M + i]! - b[i * N + j]!;
  assertEqualArrays(out, exp, 'binary transposed');
  const x = new Float32Array([NaN, 1, 2, NaN, 5, -1, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  const y = new Float32Array([1, NaN, 3, NaN, 4, -2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, NaN]);
  const o = new Float32Array(17);
  const s = new Int32Array([1]);
  for (const op of [Binary.max, Binary.min]) {
    nb().binary(op, x, s, y, s, o, new Int32Array([17]));
    assertEqualArrays(
      o,
      Array.from(x, (v, i) => Math.fround(binaryRef(op, v, y[i]!))),
      `binary NaN op ${op}`,
    );
  }
});

test('copyStrided: permute, slice with offsets, negative strides, expand', { skip: kskip }, () => {
  const shape = [3, 17, 5];
  const src = randArray(3 * 17 * 5, -1, 1, 11);
  // permute (3, 17, 5) -> dst (5, 3, 17)
  const dst = new Float32Array(src.length);
  nb().copyStrided(src, 0, new Int32Array([85, 5, 1]), dst, 0, new Int32Array([17, 1, 51]), new Int32Array(shape));
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 17; j++)
      for (let k = 0; k < 5; k++) {
        assert.equal(dst[k * 51 + i * 17 + j], src[i * 85 + j * 5 + k]);
      }
  // slice [1:3, 2:15, :] into the middle of a larger buffer
  const big = new Float32Array(1000).fill(-7);
  nb().copyStrided(
    src,
    85 + 10,
    new Int32Array([85, 5, 1]),
    big,
    100,
    new Int32Array([65, 5, 1]),
    new Int32Array([2, 13, 5]),
  );
  const exp = new Float32Array(1000).fill(-7);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 13; j++)
      for (let k = 0; k < 5; k++) exp[100 + i * 65 + j * 5 + k] = src[95 + i * 85 + j * 5 + k]!;
  assertEqualArrays(big, exp, 'copyStrided slice');
  // flip the last axis with a negative stride
  const flipped = new Float32Array(src.length);
  nb().copyStrided(src, 4, new Int32Array([85, 5, -1]), flipped, 0, new Int32Array([85, 5, 1]), new Int32Array(shape));
  for (let r = 0; r < 51; r++) for (let k = 0; k < 5; k++) assert.equal(flipped[r * 5 + k], src[r * 5 + 4 - k]);
  // expand a (1, 127) row to (300, 127) (threaded)
  const row = randArray(127, -1, 1, 12);
  const ex = new Float32Array(300 * 127);
  nb().copyStrided(row, 0, new Int32Array([0, 1]), ex, 0, new Int32Array([127, 1]), new Int32Array([300, 127]));
  for (let r = 0; r < 300; r++) for (let c = 0; c < 127; c++) assert.equal(ex[r * 127 + c], row[c]);
});

test('where and maskedFill', { skip: kskip }, () => {
  for (const n of SIZES) {
    const cond = new Uint8Array(randInts(n, 0, 2, n));
    const a = randArray(n, -1, 1, n + 1);
    const b = randArray(n, -1, 1, n + 2);
    const out = new Float32Array(n);
    nb().where(cond, a, b, out, n);
    assertEqualArrays(
      out,
      Array.from(cond, (c, i) => (c ? a[i]! : b[i]!)),
      `where n=${n}`,
    );
    nb().maskedFill(a, cond, -1e9, out, n);
    assertEqualArrays(
      out,
      Array.from(cond, (c, i) => (c ? Math.fround(-1e9) : a[i]!)),
      `maskedFill n=${n}`,
    );
  }
});

// ---- reductions ----------------------------------------------------------------------------------------------

test('sumAxis and maxAxis over (outer, dim, inner), first argmax on ties', { skip: kskip }, () => {
  const shapes = [
    [1, 1, 1],
    [3, 17, 1],
    [1, 127, 1],
    [5, 7, 3],
    [2, 300, 513],
    [4, 1, 17],
    [3, 0, 2],
    [1000, 33, 1],
  ];
  for (const [outer, dim, inner] of shapes as [number, number, number][]) {
    const x = randArray(outer * dim * inner, -2, 2, outer * 31 + dim * 7 + inner);
    const out = new Float32Array(outer * inner);
    nb().sumAxis(x, out, outer, dim, inner);
    const exp = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let d = 0; d < dim; d++)
        for (let i = 0; i < inner; i++) exp[o * inner + i]! += x[(o * dim + d) * inner + i]!;
    assertClose(out, exp, 1e-6, 1e-6, `sumAxis ${outer},${dim},${inner}`);
    if (dim === 0) continue;
    // small integer values make ties common
    const xi = new Float32Array(randInts(outer * dim * inner, -3, 4, dim + 5));
    const arg = new Int32Array(outer * inner);
    nb().maxAxis(xi, out, arg, outer, dim, inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let best = -Infinity,
          bi = -1;
        for (let d = 0; d < dim; d++) {
          const v = xi[(o * dim + d) * inner + i]!;
          if (v > best) {
            best = v;
            bi = d;
          }
        }
        assert.equal(out[o * inner + i], best, `maxAxis value ${outer},${dim},${inner}`);
        assert.equal(arg[o * inner + i], bi, `maxAxis argmax ${outer},${dim},${inner} at ${o},${i}`);
      }
  }
});

test('sumSquares accumulates in float64', { skip: kskip }, () => {
  for (const n of [0, 1, 17, 127, 200003]) {
    const x = randArray(n, -3, 3, n + 3);
    let exp = 0;
    for (const v of x) exp += v * v;
    const got = nb().sumSquares(x, n);
    assert.ok(Math.abs(got - exp) <= 1e-12 * Math.abs(exp), `sumSquares n=${n}: ${got} vs ${exp}`);
  }
  // float32 accumulation would lose the small terms entirely
  const y = new Float32Array(1 << 20).fill(1e-4);
  y[0] = 1e4;
  const exp = 1e8 + ((1 << 20) - 1) * Math.fround(1e-4) ** 2;
  const got = nb().sumSquares(y, y.length);
  assert.ok(Math.abs(got - exp) < 2e-3, `sumSquares keeps small terms: ${got} vs ${exp} (float32 sums give 1e8)`);
});

// ---- softmax family and cross-entropy ------------------------------------------------------------------------

function logits(N: number, C: number, seed: number, scale: number, offset: number): Float32Array {
  const x = randArray(N * C, -scale, scale, seed);
  for (let r = 0; r < N; r++) for (let c = 0; c < C; c++) x[r * C + c] = x[r * C + c]! + offset * (r % 3);
  return x;
}

function rowLse(x: ArrayLike<number>, r: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, x[r * C + c]!);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(x[r * C + c]! - m);
  return m + Math.log(s);
}

const SOFTMAX_SHAPES: [number, number][] = [
  [1, 1],
  [3, 17],
  [5, 127],
  [7, 1000],
  [2, 50257],
  [300, 65],
];

test('softmax / logSoftmax forward and backward, stable for huge logits', { skip: kskip }, () => {
  for (const [N, C] of SOFTMAX_SHAPES) {
    const x = logits(N, C, N * C, 8, 3e4);
    const y = new Float32Array(N * C);
    const ly = new Float32Array(N * C);
    nb().softmax(x, y, N, C);
    nb().logSoftmax(x, ly, N, C);
    const expY = new Float64Array(N * C);
    const expL = new Float64Array(N * C);
    for (let r = 0; r < N; r++) {
      const l = rowLse(x, r, C);
      for (let c = 0; c < C; c++) {
        expL[r * C + c] = x[r * C + c]! - l;
        expY[r * C + c] = Math.exp(x[r * C + c]! - l);
      }
    }
    assertClose(y, expY, 5e-6, 1e-12, `softmax ${N}x${C}`);
    assertClose(ly, expL, 1e-5, 2e-5, `logSoftmax ${N}x${C}`);
    const dy = randArray(N * C, -1, 1, C + 17);
    const dx = new Float32Array(N * C);
    nb().softmaxBackward(y, dy, dx, N, C);
    const expDx = new Float64Array(N * C);
    for (let r = 0; r < N; r++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += dy[r * C + c]! * y[r * C + c]!;
      for (let c = 0; c < C; c++) expDx[r * C + c] = y[r * C + c]! * (dy[r * C + c]! - dot);
    }
    assertClose(dx, expDx, 1e-5, 1e-7, `softmaxBackward ${N}x${C}`);
    nb().logSoftmaxBackward(ly, dy, dx, N, C);
    for (let r = 0; r < N; r++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += dy[r * C + c]!;
      for (let c = 0; c < C; c++) expDx[r * C + c] = dy[r * C + c]! - Math.exp(ly[r * C + c]!) * s;
    }
    assertClose(dx, expDx, 1e-5, 1e-5, `logSoftmaxBackward ${N}x${C}`);
  }
});

test('crossEntropy forward/backward with label smoothing and ignored rows', { skip: kskip }, () => {
  const IGNORE = -100;
  for (const [N, V] of [
    [1, 1],
    [3, 17],
    [7, 127],
    [9, 1000],
    [3, 50257],
    [200, 129],
  ] as [number, number][]) {
    for (const s of [0, 0.1]) {
      const x = logits(N, V, N + V, 6, 5e3);
      const targets = randInts(N, 0, V, N * 3 + V);
      if (N > 1) targets[1] = IGNORE;
      const losses = new Float32Array(N).fill(123);
      const lse = new Float32Array(N);
      nb().crossEntropy(x, targets, losses, lse, N, V, IGNORE, s);
      const expLoss = new Float64Array(N);
      const expLse = new Float64Array(N);
      for (let r = 0; r < N; r++) {
        const l = rowLse(x, r, V);
        expLse[r] = l;
        const t = targets[r]!;
        if (t === IGNORE) continue;
        let mean = 0;
        for (let v = 0; v < V; v++) mean += x[r * V + v]!;
        mean /= V;
        expLoss[r] = (1 - s) * (l - x[r * V + t]!) + s * (l - mean);
      }
      assertClose(lse, expLse, 1e-6, 1e-5, `crossEntropy lse ${N}x${V} s=${s}`);
      assertClose(losses, expLoss, 1e-5, 1e-4, `crossEntropy loss ${N}x${V} s=${s}`);
      const dl = randArray(N, 0.1, 2, V);
      const dlogits = new Float32Array(N * V).fill(7);
      nb().crossEntropyBackward(x, lse, targets, dl, dlogits, N, V, IGNORE, s);
      const expD = new Float64Array(N * V);
      for (let r = 0; r < N; r++) {
        const t = targets[r]!;
        if (t === IGNORE) continue;
        for (let v = 0; v < V; v++) {
          const p = Math.exp(x[r * V + v]! - lse[r]!); // the saved (float32) lse, as the contract has it
          expD[r * V + v] = dl[r]! * (p - (v === t ? 1 - s : 0) - s / V);
        }
      }
      assertClose(dlogits, expD, 1e-5, 1e-6, `crossEntropyBackward ${N}x${V} s=${s}`);
    }
  }
});

// ---- embedding and gathers -----------------------------------------------------------------------------------

test('embedding forward and scatter-add backward with repeated ids', { skip: kskip }, () => {
  for (const [N, V, C] of [
    [1, 1, 1],
    [17, 5, 3],
    [300, 50, 129],
    [64, 1000, 768],
  ] as [number, number, number][]) {
    const w = randArray(V * C, -1, 1, V);
    const ids = randInts(N, 0, V, N);
    const out = new Float32Array(N * C);
    nb().embedding(w, ids, out, N, C);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) assert.equal(out[n * C + c], w[ids[n]! * C + c]);
    const dout = randArray(N * C, -1, 1, C);
    const dw = randArray(V * C, -1, 1, 3);
    const exp = Float64Array.from(dw);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) exp[ids[n]! * C + c]! += dout[n * C + c]!;
    nb().embeddingBackward(dout, ids, dw, N, C);
    assertClose(dw, exp, 1e-6, 1e-6, `embeddingBackward ${N},${V},${C}`);
  }
});

test('gatherLast and gatherLastBackward', { skip: kskip }, () => {
  for (const [N, V] of [
    [1, 1],
    [17, 3],
    [127, 1000],
  ] as [number, number][]) {
    const x = randArray(N * V, -1, 1, N);
    const idx = randInts(N, 0, V, V);
    const out = new Float32Array(N);
    nb().gatherLast(x, idx, out, N, V);
    assertEqualArrays(
      out,
      Array.from(idx, (t, n) => x[n * V + t]!),
      `gatherLast ${N}x${V}`,
    );
    const dx = new Float32Array(N * V).fill(9);
    nb().gatherLastBackward(out, idx, dx, N, V);
    const exp = new Float32Array(N * V);
    for (let n = 0; n < N; n++) exp[n * V + idx[n]!] = out[n]!;
    assertEqualArrays(dx, exp, `gatherLastBackward ${N}x${V}`);
  }
});

// ---- normalization -------------------------------------------------------------------------------------------

const NORM_SHAPES: [number, number][] = [
  [1, 1],
  [3, 17],
  [5, 127],
  [300, 257],
  [64, 768],
  [2, 3000],
];

test('layerNorm forward/backward (with and without bias), dweight/dbias accumulate', { skip: kskip }, () => {
  const eps = 1e-5;
  for (const [N, C] of NORM_SHAPES) {
    for (const withBias of [true, false]) {
      const x = randArray(N * C, -2, 2, N + C);
      for (let i = 0; i < N * C; i++) x[i] = x[i]! + 50 * ((i / C) % 2); // a large row mean on odd rows
      const w = randArray(C, 0.5, 1.5, C);
      const b = withBias ? randArray(C, -1, 1, C + 1) : null;
      const out = new Float32Array(N * C);
      const mean = new Float32Array(N);
      const rstd = new Float32Array(N);
      nb().layerNorm(x, w, b, out, mean, rstd, N, C, eps);
      const xhat = new Float64Array(N * C);
      const expOut = new Float64Array(N * C);
      const expMean = new Float64Array(N);
      const expRstd = new Float64Array(N);
      for (let r = 0; r < N; r++) {
        let m = 0;
        for (let c = 0; c < C; c++) m += x[r * C + c]!;
        m /= C;
        let v = 0;
        for (let c = 0; c < C; c++) v += (x[r * C + c]! - m) ** 2;
        v /= C;
        const rs = 1 / Math.sqrt(v + eps);
        expMean[r] = m;
        expRstd[r] = rs;
        for (let c = 0; c < C; c++) {
          xhat[r * C + c] = (x[r * C + c]! - m) * rs;
          expOut[r * C + c] = xhat[r * C + c]! * w[c]! + (b ? b[c]! : 0);
        }
      }
      assertClose(mean, expMean, 1e-6, 1e-6, `layerNorm mean ${N}x${C}`);
      assertClose(rstd, expRstd, 2e-4, 0, `layerNorm rstd ${N}x${C}`);
      assertClose(out, expOut, 1e-4, 1e-4, `layerNorm out ${N}x${C}`);
      const dout = randArray(N * C, -1, 1, N * C + 5);
      const dx = new Float32Array(N * C);
      const dw = randArray(C, -1, 1, 77);
      const db = withBias ? randArray(C, -1, 1, 78) : null;
      const expDw = Float64Array.from(dw);
      const expDb = db ? Float64Array.from(db) : null;
      const expDx = new Float64Array(N * C);
      for (let r = 0; r < N; r++) {
        let a = 0,
          bb = 0;
        for (let c = 0; c < C; c++) {
          const g = dout[r * C + c]! * w[c]!;
          a += g;
          bb += g * xhat[r * C + c]!;
        }
        a /= C;
        bb /= C;
        for (let c = 0; c < C; c++) {
          const g = dout[r * C + c]! * w[c]!;
          expDx[r * C + c] = (g - a - xhat[r * C + c]! * bb) * expRstd[r]!;
          expDw[c]! += dout[r * C + c]! * xhat[r * C + c]!;
          if (expDb) expDb[c]! += dout[r * C + c]!;
        }
      }
      nb().layerNormBackward(dout, x, w, mean, rstd, dx, dw, db, N, C);
      assertClose(dx, expDx, 1e-3, 1e-4, `layerNormBackward dx ${N}x${C}`);
      assertClose(dw, expDw, 1e-4, 1e-4 * Math.sqrt(N), `layerNormBackward dweight ${N}x${C}`);
      if (db && expDb) assertClose(db, expDb, 1e-5, 1e-5 * Math.sqrt(N), `layerNormBackward dbias ${N}x${C}`);
    }
  }
});

test('norm backwards are bit-identical for any thread count', { skip: kskip }, () => {
  const N = 777,
    C = 129;
  const x = randArray(N * C, -2, 2, 1);
  const w = randArray(C, 0.5, 1.5, 2);
  const dout = randArray(N * C, -1, 1, 3);
  const mean = new Float32Array(N);
  const rstd = new Float32Array(N);
  nb().layerNorm(x, w, null, new Float32Array(N * C), mean, rstd, N, C, 1e-5);
  const saved = addon!.numThreads();
  const run = (threads: number) => {
    addon!.setNumThreads(threads);
    const dx = new Float32Array(N * C),
      dw = new Float32Array(C),
      db = new Float32Array(C);
    nb().layerNormBackward(dout, x, w, mean, rstd, dx, dw, db, N, C);
    const rdx = new Float32Array(N * C),
      rdw = new Float32Array(C);
    nb().rmsNormBackward(dout, x, w, rstd, rdx, rdw, N, C);
    return [dx, dw, db, rdx, rdw];
  };
  try {
    const one = run(1);
    const many = run(4);
    one.forEach((a, i) => {
      assertEqualArrays(many[i]!, a, `thread-count determinism ${i}`);
    });
  } finally {
    addon!.setNumThreads(saved);
  }
});

test('rmsNorm forward/backward, dweight accumulates', { skip: kskip }, () => {
  const eps = 1e-6;
  for (const [N, C] of NORM_SHAPES) {
    const x = randArray(N * C, -2, 2, N * 7 + C);
    const w = randArray(C, 0.5, 1.5, C + 9);
    const out = new Float32Array(N * C);
    const rstd = new Float32Array(N);
    nb().rmsNorm(x, w, out, rstd, N, C, eps);
    const expR = new Float64Array(N);
    const expOut = new Float64Array(N * C);
    for (let r = 0; r < N; r++) {
      let ms = 0;
      for (let c = 0; c < C; c++) ms += x[r * C + c]! ** 2;
      expR[r] = 1 / Math.sqrt(ms / C + eps);
      for (let c = 0; c < C; c++) expOut[r * C + c] = x[r * C + c]! * expR[r]! * w[c]!;
    }
    assertClose(rstd, expR, 1e-6, 0, `rmsNorm rstd ${N}x${C}`);
    assertClose(out, expOut, 2e-6, 1e-6, `rmsNorm out ${N}x${C}`);
    const dout = randArray(N * C, -1, 1, N + 1);
    const dx = new Float32Array(N * C);
    const dw = randArray(C, -1, 1, 4);
    const expDw = Float64Array.from(dw);
    const expDx = new Float64Array(N * C);
    for (let r = 0; r < N; r++) {
      const rs = expR[r]!;
      let dot = 0;
      for (let c = 0; c < C; c++) dot += dout[r * C + c]! * w[c]! * x[r * C + c]!;
      for (let c = 0; c < C; c++) {
        expDx[r * C + c] = rs * dout[r * C + c]! * w[c]! - (x[r * C + c]! * rs ** 3 * dot) / C;
        expDw[c]! += dout[r * C + c]! * x[r * C + c]! * rs;
      }
    }
    nb().rmsNormBackward(dout, x, w, rstd, dx, dw, N, C);
    assertClose(dx, expDx, 1e-4, 1e-5, `rmsNormBackward dx ${N}x${C}`);
    assertClose(dw, expDw, 1e-4, 1e-5 * Math.sqrt(N), `rmsNormBackward dweight ${N}x${C}`);
  }
});

// ---- rope ----------------------------------------------------------------------------------------------------

test('rope rotates (i, i + D/2) pairs; inverse undoes it; works in place', { skip: kskip }, () => {
  for (const [B, T, H, D] of [
    [1, 1, 1, 2],
    [2, 3, 5, 8],
    [1, 17, 3, 34],
    [2, 64, 12, 64],
  ] as [number, number, number, number][]) {
    const n = B * T * H * D,
      half = D / 2;
    const x = randArray(n, -1, 1, n);
    const cos = new Float32Array(T * half);
    const sin = new Float32Array(T * half);
    for (let t = 0; t < T; t++)
      for (let i = 0; i < half; i++) {
        const ang = (t + 3) * 10000 ** (-i / half);
        cos[t * half + i] = Math.cos(ang);
        sin[t * half + i] = Math.sin(ang);
      }
    const out = new Float32Array(n);
    nb().rope(x, out, cos, sin, B, T, H, D, false);
    const exp = new Float64Array(n);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++) {
          const o = ((b * T + t) * H + h) * D;
          for (let i = 0; i < half; i++) {
            const c = cos[t * half + i]!,
              s = sin[t * half + i]!;
            exp[o + i] = x[o + i]! * c - x[o + i + half]! * s;
            exp[o + i + half] = x[o + i + half]! * c + x[o + i]! * s;
          }
        }
    assertClose(out, exp, 1e-6, 1e-6, `rope ${B},${T},${H},${D}`);
    const back = out.slice();
    nb().rope(back, back, cos, sin, B, T, H, D, true);
    assertClose(back, x, 1e-5, 1e-6, `rope inverse in place ${B},${T},${H},${D}`);
  }
});

// ---- dropout -------------------------------------------------------------------------------------------------

test('dropout draws the shared hash mask bit for bit and scales by 1/(1-p)', { skip: kskip }, () => {
  for (const n of [1, 17, 127, 100003]) {
    for (const [p, seed] of [
      [0.1, 1],
      [0.5, 4294967295],
      [0.9, 123456789],
      [0.3, -1],
    ] as [number, number][]) {
      const x = randArray(n, 0.5, 2, n); // nonzero, so a zero output means dropped
      const out = new Float32Array(n);
      nb().dropout(x, out, n, p, seed);
      const thr = dropoutThreshold(p);
      for (let i = 0; i < n; i++) {
        const keep = hash32(seed, i) >= thr;
        if (keep !== (out[i] !== 0))
          assert.fail(`dropout n=${n} p=${p} seed=${seed}: element ${i} keep=${keep} but out=${out[i]}`);
        if (keep) assert.ok(Math.abs(out[i]! - x[i]! / (1 - p)) <= 2e-7 * Math.abs(out[i]!), `dropout scale at ${i}`);
      }
    }
    const x = randArray(n, -1, 1, 5);
    const out = new Float32Array(n);
    nb().dropout(x, out, n, 0, 42);
    assertEqualArrays(out, x, `dropout p=0 n=${n}`);
    nb().dropout(x, out, n, 1, 42);
    assertEqualArrays(out, new Float32Array(n), `dropout p=1 n=${n}`);
  }
});

// ---- optimizers ----------------------------------------------------------------------------------------------

test('adamw matches the float64 update over several steps', { skip: kskip }, () => {
  for (const n of [1, 17, 127, 100003]) {
    const p = randArray(n, -1, 1, n);
    const m = new Float32Array(n),
      v = new Float32Array(n);
    const P = Float64Array.from(p),
      Mm = new Float64Array(n),
      Vv = new Float64Array(n);
    const [lr, b1, b2, eps, wd, gs] = [1e-2, 0.9, 0.95, 1e-8, 0.1, 0.5];
    for (let step = 1; step <= 3; step++) {
      const g = randArray(n, -1, 1, n + step);
      nb().adamw(p, g, m, v, n, lr, b1, b2, eps, wd, step, gs);
      for (let i = 0; i < n; i++) {
        const gi = g[i]! * gs;
        Mm[i] = b1 * Mm[i]! + (1 - b1) * gi;
        Vv[i] = b2 * Vv[i]! + (1 - b2) * gi * gi;
        const mh = Mm[i]! / (1 - b1 ** step),
          vh = Vv[i]! / (1 - b2 ** step);
        P[i] = P[i]! - lr * (mh / (Math.sqrt(vh) + eps) + wd * P[i]!);
      }
    }
    assertClose(p, P, 1e-5, 1e-6, `adamw param n=${n}`);
    assertClose(m, Mm, 1e-5, 1e-7, `adamw m n=${n}`);
    assertClose(v, Vv, 1e-5, 1e-9, `adamw v n=${n}`);
  }
});

test('sgd with momentum, nesterov and first step', { skip: kskip }, () => {
  for (const nesterov of [false, true]) {
    for (const n of [1, 17, 100003]) {
      const p = randArray(n, -1, 1, n);
      const buf = new Float32Array(n).fill(99); // ignored on the first step
      const P = Float64Array.from(p),
        Bf = new Float64Array(n);
      const [lr, mom, wd, gs] = [0.1, 0.9, 0.01, 2];
      for (let step = 1; step <= 3; step++) {
        const g = randArray(n, -1, 1, n * step);
        nb().sgd(p, g, buf, n, lr, mom, wd, nesterov, step === 1, gs);
        for (let i = 0; i < n; i++) {
          const gi = g[i]! * gs + wd * P[i]!;
          Bf[i] = step === 1 ? gi : mom * Bf[i]! + gi;
          P[i] = P[i]! - lr * (nesterov ? gi + mom * Bf[i]! : Bf[i]!);
        }
      }
      assertClose(p, P, 1e-5, 1e-6, `sgd nesterov=${nesterov} n=${n}`);
      assertClose(buf, Bf, 1e-5, 1e-6, `sgd buf nesterov=${nesterov} n=${n}`);
    }
  }
});

test('in-place calls (out === input) give the out-of-place results', { skip: kskip }, () => {
  const N = 5,
    C = 131;
  const x = logits(N, C, 3, 4, 100);
  const check = (label: string, outOfPlace: (out: Float32Array) => void, inPlace: (buf: Float32Array) => void) => {
    const want = new Float32Array(N * C);
    outOfPlace(want);
    const buf = x.slice();
    inPlace(buf);
    assertEqualArrays(buf, want, `${label} in place`);
  };
  check(
    'softmax',
    (o) => nb().softmax(x, o, N, C),
    (b) => nb().softmax(b, b, N, C),
  );
  check(
    'logSoftmax',
    (o) => nb().logSoftmax(x, o, N, C),
    (b) => nb().logSoftmax(b, b, N, C),
  );
  check(
    'unary geluErf',
    (o) => nb().unary(Unary.geluErf, x, o, N * C),
    (b) => nb().unary(Unary.geluErf, b, b, N * C),
  );
  const w = randArray(C, 0.5, 1.5, 1),
    bias = randArray(C, -1, 1, 2),
    m = new Float32Array(N),
    r = new Float32Array(N);
  check(
    'layerNorm',
    (o) => nb().layerNorm(x, w, bias, o, m, r, N, C, 1e-5),
    (b) => nb().layerNorm(b, w, bias, b, m, r, N, C, 1e-5),
  );
  check(
    'rmsNorm',
    (o) => nb().rmsNorm(x, w, o, r, N, C, 1e-5),
    (b) => nb().rmsNorm(b, w, b, r, N, C, 1e-5),
  );
  const t = randInts(N, 0, C, 9),
    lse = new Float32Array(N),
    dl = randArray(N, 0.5, 1, 3);
  nb().crossEntropy(x, t, new Float32Array(N), lse, N, C, -1, 0.1);
  check(
    'crossEntropyBackward',
    (o) => nb().crossEntropyBackward(x, lse, t, dl, o, N, C, -1, 0.1),
    (b) => nb().crossEntropyBackward(b, lse, t, dl, b, N, C, -1, 0.1),
  );
});

// ---- argument checking ---------------------------------------------------------------------------------------

test('bad arguments throw clear TypeError / RangeError', { skip }, () => {
  const b = nb() as unknown as Record<string, (...args: unknown[]) => void>;
  const f = new Float32Array(8);
  assert.throws(() => b.unary!(Unary.exp, new Float64Array(8), f, 8), {
    name: 'TypeError',
    message: /unary: argument 1 must be a Float32Array, received a Float64Array/,
  });
  assert.throws(() => b.softmax!(f, f, 3, 3), {
    name: 'RangeError',
    message: /softmax: argument [01] has 8 elements, needs at least 9/,
  });
  assert.throws(() => b.unary!(11, f, f, 8), { name: 'RangeError', message: /not a Unary code/ });
  assert.throws(() => b.binary!(6, f, new Int32Array([1]), f, new Int32Array([1]), f, new Int32Array([8])), {
    name: 'RangeError',
    message: /not a Binary code/,
  });
  assert.throws(() => b.affine!(f, f), { name: 'TypeError', message: /affine: expected 5 arguments, received 2/ });
  assert.throws(() => b.where!(new Int32Array(8), f, f, f, 8), { name: 'TypeError', message: /Uint8Array/ });
  assert.throws(() => b.binary!(0, f, new Int32Array([2]), f, new Int32Array([1]), f, new Int32Array([8])), {
    name: 'RangeError',
    message: /binary: aStrides reach elements \[0, 14\]/,
  });
  assert.throws(() => b.binary!(0, f, new Int32Array([1, 1]), f, new Int32Array([1]), f, new Int32Array([8])), {
    name: 'RangeError',
    message: /aStrides has 2 entries/,
  });
  assert.throws(() => b.copyStrided!(f, 1, new Int32Array([1]), f, 0, new Int32Array([1]), new Int32Array([8])), {
    name: 'RangeError',
    message: /srcStrides reach/,
  });
  assert.throws(() => b.binary!(0, f, new Int32Array(9), f, new Int32Array(9), f, new Int32Array(9).fill(1)), {
    name: 'RangeError',
    message: /rank 9/,
  });
  assert.throws(() => b.crossEntropy!(f, new Int32Array([0, 4]), f, f, 2, 4, -100, 0), {
    name: 'RangeError',
    message: /crossEntropy: targets\[1\] = 4 is out of range \[0, 4\)/,
  });
  assert.throws(() => b.crossEntropy!(f, new Int32Array([0, 1]), f, f, 2, 4, -100, 1.5), {
    name: 'RangeError',
    message: /labelSmoothing/,
  });
  assert.throws(() => b.embedding!(f, new Int32Array([0, 4]), f, 2, 2), {
    name: 'RangeError',
    message: /embedding: ids\[1\] = 4 is out of range \[0, 4\)/,
  });
  assert.throws(() => b.embedding!(f, new Int32Array([-1]), f, 1, 2), { name: 'RangeError', message: /ids\[0\] = -1/ });
  assert.throws(() => b.gatherLast!(f, new Int32Array([2]), f, 1, 2), { name: 'RangeError', message: /idx\[0\] = 2/ });
  assert.throws(() => b.rope!(f, f, f, f, 1, 1, 1, 3, false), { name: 'RangeError', message: /D must be even/ });
  assert.throws(() => b.dropout!(f, f, 8, 1.5, 0), { name: 'RangeError', message: /dropout: p must be in \[0, 1\]/ });
  assert.throws(() => b.adamw!(f, f, f, f, 8, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 1), {
    name: 'RangeError',
    message: /step must be >= 1/,
  });
  assert.throws(() => b.layerNorm!(f, f, 'bias', f, f, f, 2, 4, 1e-5), {
    name: 'TypeError',
    message: /argument 2 must be a Float32Array, received a string/,
  });
  assert.throws(() => b.sumAxis!(f, f, 1.5, 1, 1), { name: 'RangeError', message: /non-negative integer/ });
  assert.throws(() => b.maxAxis!(f, f, new Int32Array(8), 2, 0, 1), {
    name: 'RangeError',
    message: /dim must be at least 1/,
  });
});

test('the addon exports every Backend kernel this suite owns', { skip }, () => {
  const names = [
    'unary',
    'unaryBackward',
    'affine',
    'powScalar',
    'binary',
    'copyStrided',
    'where',
    'maskedFill',
    'sumAxis',
    'maxAxis',
    'sumSquares',
    'softmax',
    'softmaxBackward',
    'logSoftmax',
    'logSoftmaxBackward',
    'crossEntropy',
    'crossEntropyBackward',
    'embedding',
    'embeddingBackward',
    'gatherLast',
    'gatherLastBackward',
    'layerNorm',
    'layerNormBackward',
    'rmsNorm',
    'rmsNormBackward',
    'rope',
    'dropout',
    'adamw',
    'sgd',
  ] satisfies (keyof Backend)[];
  for (const name of names) assert.equal(typeof (addon as unknown as Record<string, unknown>)[name], 'function', name);
});
