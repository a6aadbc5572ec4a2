/**
 * Table tests for the reference backend: every kernel except attention against small hand-computed cases,
 * naive independent loops written here, closed formulas, or central finite differences in float64 (for the
 * backwards). Reference values that need a special function (erf, GELU, AdamW/SGD trajectories) were taken
 * once from CPython's math module and PyTorch and are inlined; the test needs neither. Most cases run on
 * Float64Array with tight tolerances, and a few also on Float32Array, since the kernels must be generic over both.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, Unary, type UnaryOp } from '../../src/backend/backend.ts';
import { referenceBackend as ref } from '../../src/backend/reference/index.ts';
import { erf, erfc } from '../../src/backend/reference/erf.ts';
import { dropoutThreshold, hash32 } from '../../src/backend/hash.ts';

// ---- helpers ------------------------------------------------------------------------------------------------

const f64 = (...v: number[]): Float64Array => Float64Array.from(v);
const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const i32 = (...v: number[]): Int32Array => Int32Array.from(v);

/** Asserts |actual - expected| <= tol * max(1, |expected|) elementwise, naming the first bad index. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = a === e || (Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)));
    assert.ok(ok, `${what}[${i}]: got ${a}, expected ${e} (tol ${tol})`);
  }
}

/** Deterministic uniform values in [-1, 1) (mulberry32). */
function randoms(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Central finite-difference gradient of a scalar function of x (x is perturbed in place and restored). */
function numericGrad(f: () => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i]!;
    x[i] = x0 + h;
    const fp = f();
    x[i] = x0 - h;
    const fm = f();
    x[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** sum(w * y), the scalar used to probe backwards: its gradient w.r.t. y is w. */
function dot(w: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]! * y[i]!;
  return s;
}

// ---- gemm ---------------------------------------------------------------------------------------------------

describe('gemm', () => {
  it('2x2 by hand, all four transpose combinations', () => {
    const A = f64(1, 2, 3, 4);
    const B = f64(5, 6, 7, 8);
    const table: [boolean, boolean, number[]][] = [
      [false, false, [19, 22, 43, 50]], // A @ B
      [true, false, [26, 30, 38, 44]], // A^T @ B
      [false, true, [17, 23, 39, 53]], // A @ B^T
      [true, true, [23, 31, 34, 46]], // A^T @ B^T
    ];
    for (const [tA, tB, expected] of table) {
      const C = new Float64Array(4);
      ref.gemm(A, B, C, 1, 2, 2, 2, tA, tB, 0, 0, 0, 0);
      assertClose(C, expected, 0, `transA=${tA} transB=${tB}`);
    }
  });

  it('batched, odd sizes, strides (incl. 0 broadcast), beta 0 and 1, vs a naive triple loop', () => {
    const batch = 3,
      M = 4,
      N = 5,
      K = 3;
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        for (const [sA, sB] of [
          [M * K, K * N],
          [M * K + 2, 0],
          [0, K * N + 1],
        ] as const) {
          for (const beta of [0, 1]) {
            const A = randoms(sA * (batch - 1) + M * K, 1);
            const B = randoms(sB * (batch - 1) + K * N, 2);
            const sC = M * N + 3;
            const C0 = randoms(sC * batch, 3);
            const C = C0.slice();
            ref.gemm(A, B, C, batch, M, N, K, tA, tB, sA, sB, sC, beta);
            const expected = C0.slice();
            for (let b = 0; b < batch; b++) {
              for (let i = 0; i < M; i++) {
                for (let j = 0; j < N; j++) {
                  let s = 0;
                  for (let p = 0; p < K; p++) {
                    const a = tA ? A[b * sA + p * M + i]! : A[b * sA + i * K + p]!;
                    const bb = tB ? B[b * sB + j * K + p]! : B[b * sB + p * N + j]!;
                    s += a * bb;
                  }
                  const c = b * sC + i * N + j;
                  expected[c] = s + beta * C0[c]!;
                }
              }
            }
            assertClose(C, expected, 1e-14, `tA=${tA} tB=${tB} sA=${sA} sB=${sB} beta=${beta}`);
          }
        }
      }
    }
  });

  it('beta 0 overwrites NaN garbage in C; works on Float32Array', () => {
    const C = f32(NaN, NaN, NaN, NaN);
    ref.gemm(f32(1, 2, 3, 4), f32(5, 6, 7, 8), C, 1, 2, 2, 2, false, false, 0, 0, 0, 0);
    assertClose(C, [19, 22, 43, 50], 0);
  });
});

// ---- unary ------------------------------------------------------------------------------------------------------

describe('erf', () => {
  it('matches CPython math.erf / math.erfc to ~1e-15 on both sides of the series / fraction switch', () => {
    const table: [number, number, number][] = [
      [0.1, 0.1124629160182849, 0.8875370839817152],
      [0.5, 0.5204998778130465, 0.4795001221869535],
      [1, 0.8427007929497149, 0.15729920705028513],
      [2, 0.9953222650189527, 0.004677734981047265],
      [2.4, 0.999311486103355, 0.0006885138966450789],
      [2.6, 0.9997639655834707, 0.00023603441652934908],
      [3, 0.9999779095030014, 2.2090496998585438e-5],
      [5, 0.9999999999984626, 1.5374597944280351e-12],
      [-1.5, -0.9661051464753108, 1.9661051464753108],
    ];
    for (const [x, e, ec] of table) {
      assert.ok(Math.abs(erf(x) - e) <= 2e-15 * Math.abs(e), `erf(${x}) = ${erf(x)}, expected ${e}`);
      assert.ok(Math.abs(erfc(x) - ec) <= 1e-13 * ec, `erfc(${x}) = ${erfc(x)}, expected ${ec}`);
    }
    assert.equal(erf(0), 0);
    assert.equal(erf(Infinity), 1);
    assert.equal(erf(-Infinity), -1);
    assert.equal(erfc(40), 0);
  });
});

describe('unary', () => {
  it('forward values by hand / from PyTorch', () => {
    const x = f64(1, -1, 3, -4);
    const table: [string, UnaryOp, number[]][] = [
      ['neg', Unary.neg, [-1, 1, -3, 4]],
      ['exp', Unary.exp, [Math.E, 1 / Math.E, Math.exp(3), Math.exp(-4)]],
      ['relu', Unary.relu, [1, 0, 3, 0]],
      ['abs', Unary.abs, [1, 1, 3, 4]],
      ['sigmoid', Unary.sigmoid, [0.7310585786300049, 0.2689414213699951, 0.9525741268224334, 0.01798620996209156]],
      ['silu', Unary.silu, [0.7310585786300049, -0.2689414213699951, 2.8577223804672998, -0.07194483984836623]],
      ['geluErf', Unary.geluErf, [0.841344746068543, -0.15865525393145702, 2.99595030590511, -0.00012668496733247991]],
      [
        'geluTanh',
        Unary.geluTanh,
        [0.8411919906082768, -0.15880800939172324, 2.996362607918227, -7.024594819227126e-5],
      ],
    ];
    for (const [name, op, expected] of table) {
      const out = new Float64Array(4);
      ref.unary(op, x, out, 4);
      assertClose(out, expected, 1e-14, name);
    }
    const pos = f64(4, 0.25, Math.E, 1);
    const out = new Float64Array(4);
    ref.unary(Unary.sqrt, pos, out, 4);
    assertClose(out, [2, 0.5, Math.sqrt(Math.E), 1], 1e-15, 'sqrt');
    ref.unary(Unary.log, pos, out, 4);
    assertClose(out, [Math.log(4), Math.log(0.25), 1, 0], 1e-15, 'log');
    ref.unary(Unary.tanh, f64(0, 0.5, -2, 30), out, 4);
    assertClose(out, [0, 0.46211715726000974, -0.9640275800758169, 1], 1e-15, 'tanh');
  });

  it('sigmoid and silu do not overflow for large |x|', () => {
    const out = new Float64Array(2);
    ref.unary(Unary.sigmoid, f64(-1000, 1000), out, 2);
    assertClose(out, [0, 1], 0, 'sigmoid');
    ref.unary(Unary.silu, f64(-1000, 1000), out, 2);
    assertClose(out, [-0, 1000], 0, 'silu');
  });

  it('backward matches central finite differences of the forward (float64)', () => {
    const pts = [-2.7, -1.3, -0.4, 0.3, 0.9, 2.2, 3.1];
    const positive = pts.map((v) => Math.abs(v));
    for (const name of Object.keys(Unary) as (keyof typeof Unary)[]) {
      const op = Unary[name];
      const x = f64(...(name === 'log' || name === 'sqrt' ? positive : pts));
      const n = x.length;
      const y = new Float64Array(n);
      ref.unary(op, x, y, n);
      const dx = new Float64Array(n);
      ref.unaryBackward(op, x, y, new Float64Array(n).fill(1), dx, n);
      const h = 1e-5;
      const xp = x.map((v) => v + h);
      const xm = x.map((v) => v - h);
      const yp = new Float64Array(n);
      const ym = new Float64Array(n);
      ref.unary(op, xp, yp, n);
      ref.unary(op, xm, ym, n);
      const fd = yp.map((v, i) => (v - ym[i]!) / (2 * h));
      assertClose(dx, fd, 1e-8, `d ${name}`);
    }
  });

  it("backward multiplies by dy; kinks follow PyTorch (relu'(0) = 0, abs'(0) = 0)", () => {
    const x = f64(0, 0, 2);
    const y = new Float64Array(3);
    const dx = new Float64Array(3);
    ref.unary(Unary.relu, x, y, 3);
    ref.unaryBackward(Unary.relu, x, y, f64(5, -5, 3), dx, 3);
    assertClose(dx, [0, 0, 3], 0, 'relu');
    ref.unaryBackward(Unary.abs, f64(0, -1, 2), y, f64(5, 5, 5), dx, 3);
    assertClose(dx, [0, -5, 5], 0, 'abs');
    ref.unaryBackward(Unary.log, f64(4, 0.5, 2), y, f64(1, 1, 3), dx, 3);
    assertClose(dx, [0.25, 2, 1.5], 0, 'log');
    ref.unaryBackward(Unary.sqrt, x, f64(2, 0.5, 4), f64(1, 1, 1), dx, 3);
    assertClose(dx, [0.25, 1, 0.125], 0, 'sqrt from y');
  });

  it('works on Float32Array', () => {
    const out = new Float32Array(3);
    ref.unary(Unary.geluErf, f32(1, -1, 0), out, 3);
    assertClose(out, [0.841344746068543, -0.15865525393145702, 0], 1e-7);
  });
});

// ---- contiguous elementwise ---------------------------------------------------------------------------------

describe('affine, powScalar, where, maskedFill', () => {
  it('affine out of place and in place; respects n', () => {
    const x = f64(1, 2, 3, 99);
    const out = new Float64Array(4);
    ref.affine(x, out, 3, 2, -1);
    assertClose(out, [1, 3, 5, 0], 0);
    ref.affine(x, x, 3, -0.5, 0);
    assertClose(x, [-0.5, -1, -1.5, 99], 0);
  });

  it('powScalar', () => {
    const out = new Float64Array(4);
    ref.powScalar(f64(2, 9, -3, 0), out, 4, 2);
    assertClose(out, [4, 81, 9, 0], 0);
    ref.powScalar(f64(4, 9, 0.25, 1), out, 4, 0.5);
    assertClose(out, [2, 3, 0.5, 1], 0);
    ref.powScalar(f64(2, -2, 0.5, 1), out, 4, -1);
    assertClose(out, [0.5, -0.5, 2, 1], 0);
  });

  it('where and maskedFill', () => {
    const out = new Float32Array(4);
    ref.where(Uint8Array.from([1, 0, 0, 1]), f32(1, 2, 3, 4), f32(-1, -2, -3, -4), out, 4);
    assertClose(out, [1, -2, -3, 4], 0);
    ref.maskedFill(f32(1, 2, 3, 4), Uint8Array.from([0, 1, 0, 1]), -Infinity, out, 4);
    assertClose(out, [1, -Infinity, 3, -Infinity], 0);
  });
});

// ---- strided ------------------------------------------------------------------------------------------------

describe('binary', () => {
  it('broadcasting by hand: (2, 3) op (3), (2, 1) op (1, 3), scalar', () => {
    const a = f64(1, 2, 3, 4, 5, 6); // (2, 3)
    const out = new Float64Array(6);
    const shape = i32(2, 3);
    ref.binary(Binary.add, a, i32(3, 1), f64(10, 20, 30), i32(0, 1), out, shape);
    assertClose(out, [11, 22, 33, 14, 25, 36], 0, 'add row');
    ref.binary(Binary.sub, f64(100, 200), i32(1, 0), f64(1, 2, 3), i32(0, 1), out, shape);
    assertClose(out, [99, 98, 97, 199, 198, 197], 0, 'outer sub');
    ref.binary(Binary.div, a, i32(3, 1), f64(2), i32(0, 0), out, shape);
    assertClose(out, [0.5, 1, 1.5, 2, 2.5, 3], 0, 'div scalar');
    ref.binary(Binary.max, a, i32(3, 1), f64(3.5, 0, 7), i32(0, 1), out, shape);
    assertClose(out, [3.5, 2, 7, 4, 5, 7], 0, 'max');
    ref.binary(Binary.min, a, i32(3, 1), f64(3.5, 0, 7), i32(0, 1), out, shape);
    assertClose(out, [1, 0, 3, 3.5, 0, 6], 0, 'min');
    ref.binary(Binary.mul, a, i32(1, 2), a, i32(3, 1), out, shape); // a viewed (3,2)^T times a
    assertClose(out, [1 * 1, 3 * 2, 5 * 3, 2 * 4, 4 * 5, 6 * 6], 0, 'transposed operand');
  });

  it('rank 0 and empty shapes', () => {
    const out = f64(0);
    ref.binary(Binary.mul, f64(3), i32(), f64(4), i32(), out, i32());
    assertClose(out, [12], 0);
    const untouched = f64(7);
    ref.binary(Binary.add, f64(), i32(1, 0), f64(), i32(1, 0), untouched, i32(0, 5));
    assertClose(untouched, [7], 0);
  });

  it('rank 8 with broadcast axes vs a naive index computation', () => {
    const shape = i32(2, 1, 3, 2, 1, 2, 2, 3);
    const rank = shape.length;
    const n = shape.reduce((p, d) => p * d, 1);
    // a is a contiguous (2,1,3,2,1,2,2,3) tensor read in reverse axis order on axes 6,7 (a transposed view);
    // b broadcasts over axes 0, 3, 7.
    const aStrides = i32(72, 72, 24, 12, 12, 6, 1, 2);
    const bStrides = i32(0, 0, 8, 0, 8, 4, 2, 0);
    const a = randoms(144, 4);
    const b = randoms(24, 5);
    const out = new Float64Array(n);
    ref.binary(Binary.sub, a, aStrides, b, bStrides, out, shape);
    const expected = new Float64Array(n);
    for (let flat = 0; flat < n; flat++) {
      let rem = flat;
      let ia = 0;
      let ib = 0;
      for (let d = rank - 1; d >= 0; d--) {
        const idx = rem % shape[d]!;
        rem = Math.floor(rem / shape[d]!);
        ia += idx * aStrides[d]!;
        ib += idx * bStrides[d]!;
      }
      expected[flat] = a[ia]! - b[ib]!;
    }
    assertClose(out, expected, 0);
  });

  it('rejects rank > MAX_RANK and mismatched strides', () => {
    const s9 = new Int32Array(9).fill(1);
    assert.throws(() => ref.binary(Binary.add, f64(1), s9, f64(1), s9, f64(0), s9), RangeError);
    assert.throws(() => ref.binary(Binary.add, f64(1), i32(1), f64(1), i32(1, 1), f64(0), i32(1)), RangeError);
  });
});

describe('copyStrided', () => {
  it('transpose (2, 3) -> (3, 2)', () => {
    const src = f64(0, 1, 2, 3, 4, 5); // (2, 3)
    const dst = new Float64Array(6);
    // index space (3, 2) of the destination: dst[j, i] = src[i, j]
    ref.copyStrided(src, 0, i32(1, 3), dst, 0, i32(2, 1), i32(3, 2));
    assertClose(dst, [0, 3, 1, 4, 2, 5], 0);
    // the same transpose walking the source's index space (2, 3) and scattering with dst strides (1, 2)
    const scattered = new Float64Array(6);
    ref.copyStrided(src, 0, i32(3, 1), scattered, 0, i32(1, 2), i32(2, 3));
    assertClose(scattered, [0, 3, 1, 4, 2, 5], 0, 'scatter');
  });

  it('slice with offsets, expand with stride 0, concat halves (contiguous path)', () => {
    const src = f64(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11); // (3, 4)
    const slice = new Float64Array(4);
    ref.copyStrided(src, 5, i32(4, 1), slice, 0, i32(2, 1), i32(2, 2)); // src[1:3, 1:3]
    assertClose(slice, [5, 6, 9, 10], 0, 'slice');
    const expanded = new Float64Array(6);
    ref.copyStrided(f64(7, 8, 9), 0, i32(0, 1), expanded, 0, i32(3, 1), i32(2, 3));
    assertClose(expanded, [7, 8, 9, 7, 8, 9], 0, 'expand');
    const cat = new Float32Array(5);
    ref.copyStrided(f64(1, 2), 0, i32(1), cat, 0, i32(1), i32(2));
    ref.copyStrided(f64(0, 3, 4, 5), 1, i32(1), cat, 2, i32(1), i32(3));
    assertClose(cat, [1, 2, 3, 4, 5], 0, 'concat');
    const scalar = f64(0, 0);
    ref.copyStrided(f64(4, 5), 1, i32(), scalar, 1, i32(), i32());
    assertClose(scalar, [0, 5], 0, 'rank 0');
  });
});

// ---- reductions ---------------------------------------------------------------------------------------------

describe('reductions', () => {
  it('sumAxis over the middle of (2, 3, 2)', () => {
    const x = f64(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    const out = new Float64Array(4);
    ref.sumAxis(x, out, 2, 3, 2);
    assertClose(out, [6, 9, 24, 27], 0);
    const all = new Float64Array(1);
    ref.sumAxis(x, all, 1, 12, 1);
    assertClose(all, [66], 0);
  });

  it('sumAxis accumulates in float64 even for Float32Array input', () => {
    const n = 1 << 20;
    const x = new Float32Array(n).fill(0.1);
    const out = new Float32Array(1);
    ref.sumAxis(x, out, 1, n, 1);
    assertClose(out, [n * Math.fround(0.1)], 1e-7); // a float32 running sum drifts by ~1e-2 relative here
    assert.ok(Math.abs(ref.sumSquares(x, n) - n * Math.fround(0.1) ** 2) < 1e-9 * n);
  });

  it('maxAxis picks the first maximum and propagates NaN', () => {
    const x = f64(1, 5, 3, 5, 2, 0, 9, 9); // (2, 2, 2): outer 2, dim 2, inner 2
    const out = new Float64Array(4);
    const arg = new Int32Array(4);
    ref.maxAxis(x, out, arg, 2, 2, 2);
    assertClose(out, [3, 5, 9, 9], 0);
    assert.deepEqual(Array.from(arg), [1, 0, 1, 1]);
    ref.maxAxis(f64(2, 7, 7, 1), out, arg, 1, 4, 1);
    assert.equal(out[0], 7);
    assert.equal(arg[0], 1);
    ref.maxAxis(f64(2, NaN, 7, NaN), out, arg, 1, 4, 1);
    assert.ok(Number.isNaN(out[0]!));
    assert.equal(arg[0], 1);
  });

  it('sumSquares', () => {
    assert.equal(ref.sumSquares(f64(1, -2, 3, 100), 3), 14);
  });
});

// ---- softmax family -----------------------------------------------------------------------------------------

describe('softmax family', () => {
  const expected = [0.09003057317038045, 0.2447284710547976, 0.6652409557748218];

  it('softmax and logSoftmax of [1, 2, 3], stable for large logits', () => {
    const out = new Float64Array(6);
    ref.softmax(f64(1, 2, 3, 1001, 1002, 1003), out, 2, 3);
    assertClose(out, [...expected, ...expected], 1e-15);
    ref.logSoftmax(f64(1, 2, 3, -1001, -1000, -999), out, 2, 3);
    assertClose(out.subarray(0, 3), expected.map(Math.log), 1e-15, 'logSoftmax');
    // x - lse with |x| ~ 1000 is exact only to the float64 spacing there (~1e-13)
    assertClose(out.subarray(3), expected.map(Math.log), 1e-12, 'logSoftmax, large logits');
    const o32 = new Float32Array(3);
    ref.softmax(f32(1, 2, 3), o32, 1, 3);
    assertClose(o32, expected, 1e-7);
  });

  it('backwards match finite differences', () => {
    const N = 2,
      C = 5;
    const x = randoms(N * C, 6).map((v) => 3 * v);
    const w = randoms(N * C, 7);
    for (const [name, fwd, bwd] of [
      ['softmax', ref.softmax, ref.softmaxBackward],
      ['logSoftmax', ref.logSoftmax, ref.logSoftmaxBackward],
    ] as const) {
      const y = new Float64Array(N * C);
      const loss = (): number => {
        fwd(x, y, N, C);
        return dot(w, y);
      };
      const fd = numericGrad(loss, x);
      fwd(x, y, N, C);
      const dx = new Float64Array(N * C);
      bwd(y, w, dx, N, C);
      assertClose(dx, fd, 1e-8, name);
    }
  });
});

describe('crossEntropy', () => {
  const N = 3,
    V = 4,
    IGNORE = -100;
  const logits = f64(0.5, -1, 2, 0.25, 3, 1, -2, 0, -0.5, 0.75, 1.5, -3);
  const targets = i32(2, IGNORE, 0);

  /** The textbook formula: log-probabilities from a direct log(sum(exp)) without any max trick. */
  function direct(s: number): number[] {
    const losses: number[] = [];
    for (let r = 0; r < N; r++) {
      const row = Array.from(logits.subarray(r * V, r * V + V));
      const logZ = Math.log(row.reduce((acc, v) => acc + Math.exp(v), 0));
      const nll = row.map((v) => logZ - v);
      const t = targets[r]!;
      losses.push(t === IGNORE ? 0 : (1 - s) * nll[t]! + (s * nll.reduce((a, b) => a + b, 0)) / V);
    }
    return losses;
  }

  for (const s of [0, 0.1]) {
    it(`forward with ignoreIndex, labelSmoothing ${s}`, () => {
      const losses = new Float64Array(N).fill(NaN);
      const lse = new Float64Array(N);
      ref.crossEntropy(logits, targets, losses, lse, N, V, IGNORE, s);
      assertClose(losses, direct(s), 1e-14, 'losses');
      for (let r = 0; r < N; r++) {
        const row = Array.from(logits.subarray(r * V, r * V + V));
        assertClose([lse[r]!], [Math.log(row.reduce((a, v) => a + Math.exp(v), 0))], 1e-15, `lse[${r}]`);
      }
    });

    it(`backward vs finite differences, labelSmoothing ${s}`, () => {
      const dl = f64(0.7, 5, -1.3);
      const losses = new Float64Array(N);
      const lse = new Float64Array(N);
      const fd = numericGrad(() => {
        ref.crossEntropy(logits, targets, losses, lse, N, V, IGNORE, s);
        return dot(dl, losses);
      }, logits);
      ref.crossEntropy(logits, targets, losses, lse, N, V, IGNORE, s);
      const dlogits = new Float64Array(N * V).fill(NaN);
      ref.crossEntropyBackward(logits, lse, targets, dl, dlogits, N, V, IGNORE, s);
      assertClose(dlogits, fd, 1e-8);
      assertClose(dlogits.subarray(V, 2 * V), [0, 0, 0, 0], 0, 'ignored row');
    });
  }

  it('throws on an out-of-range target', () => {
    const z = new Float64Array(N);
    assert.throws(() => ref.crossEntropy(logits, i32(0, 4, 0), z, z.slice(), N, V, IGNORE, 0), /targets\[1\] = 4/);
  });
});

// ---- embedding and gathers ----------------------------------------------------------------------------------

describe('embedding and gathers', () => {
  it('embedding lookup and scatter-add backward', () => {
    const weight = f64(0, 1, 10, 11, 20, 21, 30, 31); // (4, 2)
    const out = new Float32Array(6);
    ref.embedding(weight, i32(3, 0, 3), out, 3, 2);
    assertClose(out, [30, 31, 0, 1, 30, 31], 0);
    const dweight = f64(1, 1, 1, 1, 1, 1, 1, 1);
    ref.embeddingBackward(f64(1, 2, 3, 4, 5, 6), i32(3, 0, 3), dweight, 3, 2);
    assertClose(dweight, [4, 5, 1, 1, 1, 1, 7, 9], 0);
    assert.throws(() => ref.embedding(weight, i32(4), out, 1, 2), /ids\[0\] = 4 is out of range \[0, 4\)/);
  });

  it('gatherLast and its backward', () => {
    const x = f64(1, 2, 3, 4, 5, 6); // (2, 3)
    const out = new Float64Array(2);
    ref.gatherLast(x, i32(2, 0), out, 2, 3);
    assertClose(out, [3, 4], 0);
    const dx = new Float64Array(6).fill(NaN);
    ref.gatherLastBackward(f64(7, 8), i32(2, 0), dx, 2, 3);
    assertClose(dx, [0, 0, 7, 8, 0, 0], 0);
  });
});

// ---- normalization ------------------------------------------------------------------------------------------

describe('normalization', () => {
  it('layerNorm by hand', () => {
    const out = new Float64Array(4);
    const mean = new Float64Array(1);
    const rstd = new Float64Array(1);
    ref.layerNorm(f64(1, 2, 3, 4), f64(1, 2, 1, 1), f64(0, 0, 0, 10), out, mean, rstd, 1, 4, 0);
    const r = 1 / Math.sqrt(1.25); // mean 2.5, biased variance 1.25
    assertClose(out, [-1.5 * r, -1 * r, 0.5 * r, 1.5 * r + 10], 1e-15);
    assertClose(mean, [2.5], 0);
    assertClose(rstd, [r], 1e-15);
    ref.layerNorm(f64(1, 2, 3, 4), f64(1, 1, 1, 1), null, out, mean, rstd, 1, 4, 2.75); // rstd = 1 / sqrt(1.25 + 2.75)
    assertClose(rstd, [0.5], 0);
    assertClose(out, [-0.75, -0.25, 0.25, 0.75], 0, 'eps and null bias');
  });

  it('rmsNorm by hand', () => {
    const out = new Float64Array(4);
    const rstd = new Float64Array(1);
    ref.rmsNorm(f64(1, 2, 3, 4), f64(1, 1, 2, 0.5), out, rstd, 1, 4, 8.5); // rstd = 1 / sqrt(mean(x^2) 7.5 + 8.5)
    assertClose(rstd, [0.25], 0);
    assertClose(out, [0.25, 0.5, 1.5, 0.5], 0);
  });

  it('layerNorm backward vs finite differences; dweight and dbias accumulate', () => {
    const N = 3,
      C = 5,
      eps = 1e-5;
    const x = randoms(N * C, 8).map((v) => 2 * v + 0.3);
    const w = randoms(C, 9).map((v) => v + 1.5);
    const bias = randoms(C, 10);
    const g = randoms(N * C, 11);
    const out = new Float64Array(N * C);
    const mean = new Float64Array(N);
    const rstd = new Float64Array(N);
    const loss = (): number => {
      ref.layerNorm(x, w, bias, out, mean, rstd, N, C, eps);
      return dot(g, out);
    };
    const fdx = numericGrad(loss, x);
    const fdw = numericGrad(loss, w);
    const fdb = numericGrad(loss, bias);
    loss();
    const dx = new Float64Array(N * C);
    const dw = new Float64Array(C).fill(1);
    const db = new Float64Array(C).fill(-1);
    ref.layerNormBackward(g, x, w, mean, rstd, dx, dw, db, N, C);
    assertClose(dx, fdx, 1e-8, 'dx');
    assertClose(
      dw,
      fdw.map((v) => v + 1),
      1e-8,
      'dweight',
    );
    assertClose(
      db,
      fdb.map((v) => v - 1),
      1e-8,
      'dbias',
    );
    ref.layerNormBackward(g, x, w, mean, rstd, dx, dw, null, N, C); // null dbias is allowed
    assertClose(
      dw,
      fdw.map((v) => 2 * v + 1),
      1e-8,
      'dweight accumulated twice',
    );
  });

  it('rmsNorm backward vs finite differences; dweight accumulates', () => {
    const N = 3,
      C = 6,
      eps = 1e-6;
    const x = randoms(N * C, 12);
    const w = randoms(C, 13).map((v) => v + 1.5);
    const g = randoms(N * C, 14);
    const out = new Float64Array(N * C);
    const rstd = new Float64Array(N);
    const loss = (): number => {
      ref.rmsNorm(x, w, out, rstd, N, C, eps);
      return dot(g, out);
    };
    const fdx = numericGrad(loss, x);
    const fdw = numericGrad(loss, w);
    loss();
    const dx = new Float64Array(N * C);
    const dw = new Float64Array(C).fill(0.5);
    ref.rmsNormBackward(g, x, w, rstd, dx, dw, N, C);
    assertClose(dx, fdx, 1e-8, 'dx');
    assertClose(
      dw,
      fdw.map((v) => v + 0.5),
      1e-8,
      'dweight',
    );
  });
});

// ---- rope ---------------------------------------------------------------------------------------------------

describe('rope', () => {
  it('rotates pairs (i, i + D/2) by hand', () => {
    const out = new Float64Array(4);
    // D = 4: pairs (0, 2) and (1, 3); angle 90 degrees for pair 0, 0 degrees for pair 1
    ref.rope(f64(1, 2, 3, 4), out, f64(0, 1), f64(1, 0), 1, 1, 1, 4, false);
    assertClose(out, [-3, 2, 1, 4], 0);
    ref.rope(f64(1, 2, 3, 4), out, f64(0, 1), f64(1, 0), 1, 1, 1, 4, true);
    assertClose(out, [3, 2, -1, 4], 0, 'inverse');
  });

  it('(B, T, H, D) indexing uses cos/sin rows by t, and inverse undoes forward (in place)', () => {
    const B = 2,
      T = 3,
      H = 2,
      D = 6,
      half = D / 2;
    const angles = Array.from({ length: T * half }, (_, k) => 0.3 * (k + 1));
    const cos = f64(...angles.map(Math.cos));
    const sin = f64(...angles.map(Math.sin));
    const x = randoms(B * T * H * D, 15);
    const out = new Float64Array(x.length);
    ref.rope(x, out, cos, sin, B, T, H, D, false);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < half; i++) {
            // complex multiply (x_i + i x_{i+half}) * e^{i angle}
            const base = ((b * T + t) * H + h) * D;
            const th = angles[t * half + i]!;
            const re = x[base + i]!,
              im = x[base + i + half]!;
            assertClose(
              [out[base + i]!, out[base + i + half]!],
              [re * Math.cos(th) - im * Math.sin(th), re * Math.sin(th) + im * Math.cos(th)],
              1e-15,
            );
          }
        }
      }
    }
    ref.rope(out, out, cos, sin, B, T, H, D, true);
    assertClose(out, x, 1e-15, 'roundtrip');
  });
});

// ---- dropout ------------------------------------------------------------------------------------------------

describe('dropout', () => {
  it('keeps ~1 - p of 100k elements, scales kept ones by 1/(1-p), same mask twice, new seed new mask', () => {
    const n = 100_000,
      p = 0.3,
      seed = 1234;
    const x = new Float32Array(n).fill(2);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    const c = new Float32Array(n);
    ref.dropout(x, a, n, p, seed);
    ref.dropout(x, b, n, p, seed);
    ref.dropout(x, c, n, p, seed + 1);
    let kept = 0;
    let differ = 0;
    for (let i = 0; i < n; i++) {
      assert.ok(a[i] === 0 || a[i] === Math.fround(2 / 0.7), `a[${i}] = ${a[i]}`);
      if (a[i] !== 0) kept++;
      assert.equal(a[i], b[i]);
      if ((a[i] === 0) !== (c[i] === 0)) differ++;
      if (i < 1000) assert.equal(a[i] !== 0, hash32(seed, i) >= dropoutThreshold(p), `mask rule at ${i}`);
    }
    assert.ok(Math.abs(kept / n - 0.7) < 0.007, `kept fraction ${kept / n}`); // ~5 standard deviations
    assert.ok(differ > 0.3 * n, `a different seed changed only ${differ} decisions`);
  });

  it('p = 0 copies, p = 1 zeroes, works on Float64Array and in place', () => {
    const x = f64(1, -2, 3);
    const out = f64(9, 9, 9);
    ref.dropout(x, out, 3, 0, 7);
    assertClose(out, [1, -2, 3], 0);
    ref.dropout(x, out, 3, 1, 7);
    assertClose(out, [0, 0, 0], 0);
    const y = randoms(64, 16);
    const expected = new Float64Array(64);
    ref.dropout(y, expected, 64, 0.5, 3);
    ref.dropout(y, y, 64, 0.5, 3);
    assertClose(y, expected, 0);
    assert.throws(() => ref.dropout(x, out, 3, 1.5, 7), RangeError);
  });
});

// ---- optimizers ---------------------------------------------------------------------------------------------

describe('optimizers', () => {
  it('adamw one step vs the formula by hand', () => {
    const p = f64(1),
      m = f64(0),
      v = f64(0);
    ref.adamw(p, f64(0.5), m, v, 1, 0.1, 0.9, 0.999, 1e-8, 0.01, 1, 1);
    // m = 0.05, v = 0.00025, mhat = 0.5, vhat = 0.25, p = 1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.01 * 1)
    assertClose(m, [0.05], 1e-15);
    assertClose(v, [0.00025], 1e-15);
    assertClose(p, [1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.01)], 1e-15);
  });

  it('adamw two steps with gradScale match torch.optim.AdamW', () => {
    const p = f64(1, -2),
      m = f64(0, 0),
      v = f64(0, 0);
    ref.adamw(p, f64(0.5, -0.25), m, v, 2, 0.1, 0.9, 0.999, 1e-8, 0.01, 1, 0.5);
    ref.adamw(p, f64(-1, 3), m, v, 2, 0.1, 0.9, 0.999, 1e-8, 0.01, 2, 0.5);
    assertClose(p, [0.9347113557735462, -1.9646971354278566], 1e-14, 'param');
    assertClose(m, [-0.027499999999999993, 0.13874999999999996], 1e-14, 'm');
    assertClose(v, [0.00031243750000000027, 0.002265609375000002], 1e-14, 'v');
  });

  for (const [nesterov, expectedP, expectedBuf] of [
    [false, [1.007201, -2.499252], [-1.08201, 5.51252]],
    [true, [1.10475461, -2.99546772], [-1.082919, 5.512988]],
  ] as const) {
    it(`sgd momentum ${nesterov ? 'nesterov ' : ''}two steps with gradScale match torch.optim.SGD`, () => {
      const p = f64(1, -2),
        buf = f64(NaN, NaN); // the first step must not read buf
      ref.sgd(p, f64(0.5, -0.25), buf, 2, 0.1, 0.9, 0.01, nesterov, true, 2);
      ref.sgd(p, f64(-1, 3), buf, 2, 0.1, 0.9, 0.01, nesterov, false, 2);
      assertClose(p, expectedP, 1e-14, 'param');
      assertClose(buf, expectedBuf, 1e-14, 'buf');
    });
  }

  it('adamw works on Float32Array', () => {
    const p = f32(1),
      m = f32(0),
      v = f32(0);
    ref.adamw(p, f32(0.5), m, v, 1, 0.1, 0.9, 0.999, 1e-8, 0.01, 1, 1);
    assertClose(p, [1 - 0.1 * (0.5 / (0.5 + 1e-8) + 0.01)], 1e-7);
  });
});

describe('backend object', () => {
  it('is named reference, single-threaded, and every member is a function', () => {
    assert.equal(ref.name, 'reference');
    assert.equal(ref.numThreads(), 1);
    ref.setNumThreads(8);
    assert.equal(ref.numThreads(), 1);
    for (const [key, value] of Object.entries(ref)) {
      if (key !== 'name') assert.equal(typeof value, 'function', key);
    }
  });
});
