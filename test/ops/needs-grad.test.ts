/**
 * Backward passes compute only the gradients that are needed: a frozen (requiresGrad = false) weight gets no `.grad`
 * and no dW kernel call in linear, matmul, embedding and the fused LoRA linear (counted by wrapping the active
 * backend's kernels), layerNorm's frozen weight and bias get no `.grad`, and the trainable inputs' gradients are
 * the same as when everything trains. loraLinear is also checked against finite differences (float64) and against
 * the composite linear + linear(linear(h, A), B) * scale it replaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backend } from '../../src/backend/index.ts';
import { randn } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import * as F from '../../src/ops/index.ts';
import { gradcheck } from '../helpers/gradcheck.ts';

const r = (shape: number[], seed: number, grad = true, std = 1): Tensor =>
  randn(shape, { seed, std, requiresGrad: grad });

/** Runs fn with the active backend's `name` kernel wrapped; returns the output length of each call (argument `outArg`). */
function countCalls(
  name: 'gemm' | 'embeddingBackward' | 'layerNormBackward',
  outArg: number,
  fn: () => void,
): number[] {
  const be = backend() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const orig = be[name]!;
  const sizes: number[] = [];
  be[name] = (...args: unknown[]): unknown => {
    sizes.push((args[outArg] as ArrayLike<number>).length);
    return orig.apply(be, args);
  };
  try {
    fn();
  } finally {
    be[name] = orig;
  }
  return sizes;
}

/** Sum of y * R for a fixed R: a scalar objective whose gradient w.r.t. y is R. */
function objective(y: Tensor, seed = 9): Tensor {
  return F.sum(F.mul(y, randn(y.shape, { seed })));
}

function close(a: Tensor | null, b: Tensor | null, tol: number, what: string): void {
  assert.ok(a && b, `${what}: missing gradient`);
  let m = 0;
  for (let i = 0; i < a.size; i++)
    m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!) / Math.max(1, Math.abs(b.data[i]!)));
  assert.ok(m <= tol, `${what}: max difference ${m} > ${tol}`);
}

const GEMM_C = 2; // gemm(A, B, C, ...): C is the output

test('linear: a frozen weight and bias get no .grad and no dW or db GEMM; dx is unchanged', () => {
  const [rows, K, N] = [6, 5, 7];
  const run = (trainW: boolean): { x: Tensor; w: Tensor; b: Tensor; calls: number[] } => {
    const x = r([2, 3, K], 1);
    const w = r([N, K], 2, trainW);
    const b = r([N], 3, trainW);
    const loss = objective(F.linear(x, w, b));
    const calls = countCalls('gemm', GEMM_C, () => loss.backward());
    return { x, w, b, calls };
  };
  const frozen = run(false);
  const full = run(true);
  assert.equal(frozen.w.grad, null);
  assert.equal(frozen.b.grad, null);
  assert.deepEqual(frozen.calls, [rows * K], 'only the dx GEMM runs');
  assert.ok(
    full.calls.includes(N * K) && full.calls.includes(N),
    'with a trainable weight the dW GEMM and the bias GEMV run',
  );
  close(frozen.x.grad, full.x.grad, 1e-6, 'dx');
});

test('matmul: only the operand that requires grad gets a GEMM, in the folded and the batched paths', () => {
  for (const [aShape, bShape] of [
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
  ] as const) {
    const a = r([...aShape], 1);
    const b = r([...bShape], 2, false);
    const loss = objective(F.matmul(a, b));
    const calls = countCalls('gemm', GEMM_C, () => loss.backward());
    assert.equal(b.grad, null);
    assert.equal(calls.length, 1, `${aShape} @ ${bShape}: one GEMM (da)`);
    const a2 = r([...aShape], 1, false);
    const b2 = r([...bShape], 2);
    const loss2 = objective(F.matmul(a2, b2));
    assert.equal(countCalls('gemm', GEMM_C, () => loss2.backward()).length, 1, `${aShape} @ ${bShape}: one GEMM (db)`);
    assert.equal(a2.grad, null);
    assert.ok(b2.grad);
  }
});

test('embedding: a frozen table is not recorded, gets no .grad and no scatter-add', () => {
  const table = r([10, 4], 1, false);
  const w = r([4], 2);
  const loss = objective(F.mul(F.embedding(table, [1, 2, 2, 9], [2, 2]), w));
  const calls = countCalls('embeddingBackward', 2, () => loss.backward());
  assert.deepEqual(calls, []);
  assert.equal(table.grad, null);
  assert.ok(w.grad);
});

test('layerNorm: a frozen weight and bias get no .grad; dx equals the all-trainable dx', () => {
  const run = (train: boolean): { x: Tensor; w: Tensor; b: Tensor } => {
    const x = r([3, 8], 1);
    const w = r([8], 2, train);
    const b = r([8], 3, train);
    objective(F.layerNorm(x, w, b)).backward();
    return { x, w, b };
  };
  const frozen = run(false);
  const full = run(true);
  assert.equal(frozen.w.grad, null);
  assert.equal(frozen.b.grad, null);
  assert.ok(full.w.grad && full.b.grad);
  close(frozen.x.grad, full.x.grad, 0, 'dx');
});

test('loraLinear matches finite differences for every input (h = x and a separate h, with and without bias)', () => {
  const scale = 1.5;
  gradcheck(
    () => [r([2, 3, 4], 1), r([5, 4], 2), r([5], 3), r([2, 4], 4), r([5, 2], 5)],
    (x, w, b, a, bb) => F.loraLinear(x!, w!, b!, a!, bb!, scale),
  );
  gradcheck(
    () => [r([3, 4], 1), r([5, 4], 2), r([2, 4], 4), r([5, 2], 5), r([3, 4], 6)],
    (x, w, a, bb, h) => F.loraLinear(x!, w!, null, a!, bb!, scale, h!),
  );
  gradcheck(
    () => [r([3, 4], 1), r([5, 4], 2, false), r([2, 4], 4), r([5, 2], 5)],
    (x, w, a, bb) => F.loraLinear(x!, w!, null, a!, bb!, scale),
  );
});

test('loraLinear with a frozen base: no dW or db GEMM, no base .grad, same gradients as the composite ops', () => {
  const [rows, K, N, R] = [6, 5, 7, 3];
  const make = (): Tensor[] => [
    r([2, 3, K], 1),
    r([N, K], 2, false, 0.3),
    r([N], 3, false),
    r([R, K], 4, true, 0.3),
    r([N, R], 5, true, 0.3),
  ];
  const [x, w, b, a, bb] = make() as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const loss = objective(F.loraLinear(x, w, b, a, bb, 2));
  const calls = countCalls('gemm', GEMM_C, () => loss.backward());
  assert.equal(w.grad, null);
  assert.equal(b.grad, null);
  assert.ok(!calls.includes(N * K) && !calls.includes(N), `no dW / db GEMM (output sizes ${calls.join(', ')})`);
  assert.equal(calls.filter((n) => n === rows * K).length, 2, 'dx = g @ W, then += (g @ B) @ A in place');
  const [x2, w2, b2, a2, bb2] = make() as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const y2 = F.add(F.linear(x2, w2, b2), F.mul(F.linear(F.linear(x2, a2), bb2), 2));
  objective(y2).backward();
  close(x.grad, x2.grad, 1e-5, 'dx');
  close(a.grad, a2.grad, 1e-5, 'dA');
  close(bb.grad, bb2.grad, 1e-5, 'dB');
});

test('loraLinear rejects mismatched shapes with the shapes in the message', () => {
  assert.throws(
    () => F.loraLinear(r([3, 4], 1), r([5, 4], 2), null, r([2, 3], 3), r([5, 2], 4), 1),
    /loraLinear: .*A \[2, 3\]/,
  );
  assert.throws(
    () => F.loraLinear(r([3, 6], 1), r([5, 4], 2), null, r([2, 4], 3), r([5, 2], 4), 1),
    /loraLinear: x \[3, 6\]/,
  );
});
