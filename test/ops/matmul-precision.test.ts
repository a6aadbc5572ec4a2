/**
 * The bf16 matmul mode (src/ops/matmul-precision.ts) and the fused-bias `linear`: native vs reference parity in
 * bf16 mode (both round the operands to bfloat16, so they agree to fp32 accumulation error), bf16 against fp32
 * (a real, bf16-sized difference: the switch is not a no-op), float64 mode ignoring it, the precision being
 * fixed per op at forward time, `roundBf16` on a table, and the errors for a bad setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { withBackend, withFloat64 } from '../../src/backend/index.ts';
import { roundBf16 } from '../../src/backend/reference/gemm.ts';
import { randn } from '../../src/tensor/creation.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import * as F from '../../src/ops/index.ts';
import { checkParity, hasNative } from '../helpers/parity.ts';

const skip = hasNative ? false : 'native addon not built';

/** Largest |a - b| / (1 + |b|) over two arrays. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return worst;
}

test('roundBf16 rounds to nearest even and keeps specials', () => {
  const table: [number, number][] = [
    [1, 1],
    [3, 3],
    [-2.5, -2.5],
    [0, 0],
    [1 + 2 ** -8, 1], // tie: mantissa ...0 is even
    [1 + 3 * 2 ** -8, 1 + 2 ** -6], // tie: rounds up to the even neighbour
    [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], // just above the tie
    [Infinity, Infinity],
    [-Infinity, -Infinity],
  ];
  for (const [x, want] of table) assert.equal(roundBf16(x), want, `roundBf16(${x})`);
  assert.ok(Number.isNaN(roundBf16(Number.NaN)));
});

test('bf16 linear and matmul: native matches the reference (same bf16 rounding), gradients included', { skip }, () => {
  F.withMatmulPrecision('bf16', () => {
    // 3-D input with bias (fused path), rows not a multiple of 16/32, K odd; and plain matmuls in all flags.
    checkParity([[2, 37, 45], [70, 45], [70]], (x, w, b) => F.linear(x!, w!, b!), { atol: 2e-3, rtol: 2e-3 });
    checkParity(
      [
        [40, 33],
        [33, 50],
      ],
      (a, b) => F.matmul(a!, b!),
      { atol: 2e-3, rtol: 2e-3 },
    );
    checkParity(
      [
        [33, 40],
        [50, 33],
      ],
      (a, b) => F.matmul(a!, b!, { transA: true, transB: true }),
      { atol: 2e-3, rtol: 2e-3 },
    );
  });
});

test('bf16 mode differs from fp32 by bf16 rounding error, and only while it is on', { skip }, () => {
  withBackend('native', () => {
    const x = randn([64, 256], { seed: 1 });
    const w = randn([96, 256], { seed: 2 });
    const b = randn([96], { seed: 3 });
    const fp32 = F.linear(x, w, b);
    const bf16 = F.withMatmulPrecision('bf16', () => F.linear(x, w, b));
    // Each product carries ~2^-8 relative error, so sums of K = 256 terms of size ~1 are off by ~0.05.
    const diff = maxRelDiff(bf16.data, fp32.data);
    let mean = 0;
    for (let i = 0; i < fp32.size; i++) mean += Math.abs(bf16.data[i]! - fp32.data[i]!) / fp32.size;
    assert.ok(diff > 1e-4, `bf16 result equals fp32 (max rel diff ${diff}): the switch did nothing`);
    assert.ok(diff < 0.3 && mean < 0.05, `bf16 result too far from fp32 (max rel diff ${diff}, mean abs diff ${mean})`);
    assert.equal(F.matmulPrecision(), 'fp32');
    assert.equal(maxRelDiff(F.linear(x, w, b).data, fp32.data), 0);
  });
});

test('a backward pass runs in the precision of its forward', { skip }, () => {
  withBackend('native', () => {
    const grads = (forwardBf16: boolean): Float32Array => {
      const w = new Tensor(randn([48, 64], { seed: 5 }).data, [48, 64], true);
      const x = randn([40, 64], { seed: 4 });
      const y = forwardBf16 ? F.withMatmulPrecision('bf16', () => F.linear(x, w)) : F.linear(x, w);
      y.backward(randn(y.shape, { seed: 6 })); // runs with the global precision back at fp32
      return w.grad!.data as Float32Array;
    };
    assert.ok(maxRelDiff(grads(true), grads(false)) > 1e-4);
  });
});

test('float64 mode (gradient checks) ignores bf16', () => {
  withFloat64(() => {
    const a = randn([5, 7], { seed: 1 });
    const b = randn([7, 3], { seed: 2 });
    const exact = F.matmul(a, b);
    const inBf16 = F.withMatmulPrecision('bf16', () => F.matmul(a, b));
    assert.deepEqual(Array.from(inBf16.data), Array.from(exact.data));
  });
});

test('fused-bias linear: native matches the reference on odd shapes, one row and one output', { skip }, () => {
  for (const [rows, K, N] of [
    [1, 5, 3],
    [7, 1, 9],
    [3, 4, 1],
    [129, 17, 33],
  ] as const) {
    checkParity([[rows, K], [N, K], [N]], (x, w, b) => F.linear(x!, w!, b!), { atol: 1e-4 });
  }
  // A bias of another shape still broadcasts through add (unfused path).
  checkParity(
    [
      [4, 3, 5],
      [6, 5],
      [3, 1],
    ],
    (x, w, b) => F.linear(x!, w!, b!),
    { atol: 1e-4 },
  );
});

test('a bad precision is one clear error', () => {
  assert.throws(
    () => F.setMatmulPrecision('fp16' as F.MatmulPrecision),
    /setMatmulPrecision: expected one of fp32, bf16, received 'fp16'/,
  );
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', "import('./src/ops/matmul-precision.ts').then((m) => m.matmulPrecision())"],
    {
      env: { ...process.env, LLMFORGE_MATMUL: 'half' },
      encoding: 'utf8',
    },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /LLMFORGE_MATMUL: expected one of fp32, bf16, received 'half'/);
});
