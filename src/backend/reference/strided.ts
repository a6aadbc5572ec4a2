/**
 * Reference strided kernels: the broadcasting binary op and the general strided copy (Backend.binary,
 * Backend.copyStrided), rank 0 to MAX_RANK. Both walk the index space `shape` with an odometer over all but
 * the last axis and run a plain inner loop along the last axis, so each operand only needs its own strides
 * (0 on a broadcast axis). When every operand is contiguous over `shape` they take a flat loop instead.
 */
import { Binary, MAX_RANK, type Backend, type BinaryOp } from '../backend.ts';

const BINARY_FN: { [K in keyof typeof Binary]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: Math.max, // propagates NaN, like torch.maximum
  min: Math.min,
};

/** Op functions indexed by the numeric op code shared with C++. */
const BINARY_BY_CODE: ((a: number, b: number) => number)[] = [];
for (const name of Object.keys(Binary) as (keyof typeof Binary)[]) BINARY_BY_CODE[Binary[name]] = BINARY_FN[name];

function checkStrides(kernel: string, shape: Int32Array, strides: Record<string, Int32Array>): void {
  if (shape.length > MAX_RANK) {
    throw new RangeError(
      `${kernel}: shape [${shape.join(', ')}] has rank ${shape.length}; at most ${MAX_RANK} is supported`,
    );
  }
  for (const [name, s] of Object.entries(strides)) {
    if (s.length !== shape.length) {
      throw new RangeError(
        `${kernel}: ${name} [${s.join(', ')}] has ${s.length} entries but shape [${shape.join(', ')}] has rank ${shape.length}`,
      );
    }
  }
}

function numel(shape: Int32Array): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when `strides` are the row-major contiguous strides of `shape` (size-1 axes may have any stride). */
function isContiguous(shape: Int32Array, strides: Int32Array): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * Calls row(offsets) once per row of the index space `shape` (a row runs along the last axis; rank 0 is one
 * row of one element), in row-major order. offsets[k] is the element offset where operand k's row starts:
 * bases[k] + sum over the outer axes d of index[d] * strides[k][d]. `offsets` is reused between calls.
 */
function forEachRow(shape: Int32Array, strides: Int32Array[], bases: number[], row: (offsets: number[]) => void): void {
  if (numel(shape) === 0) return;
  const outerRank = Math.max(shape.length - 1, 0);
  const index = new Int32Array(outerRank); // odometer over axes 0 .. rank-2
  const offsets = bases.slice();
  for (;;) {
    row(offsets);
    let d = outerRank - 1;
    for (; d >= 0; d--) {
      index[d]++;
      for (let k = 0; k < strides.length; k++) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      for (let k = 0; k < strides.length; k++) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Length and per-operand stride of the innermost axis (rank 0: one element). */
function innerAxis(shape: Int32Array, strides: Int32Array[]): { len: number; steps: number[] } {
  const last = shape.length - 1;
  if (last < 0) return { len: 1, steps: strides.map(() => 0) };
  return { len: shape[last], steps: strides.map((s) => s[last]) };
}

export const binary: Backend['binary'] = (op: BinaryOp, a, aStrides, b, bStrides, out, shape) => {
  checkStrides('binary', shape, { aStrides, bStrides });
  const f = BINARY_BY_CODE[op];
  if (f === undefined)
    throw new RangeError(`binary: unknown binary op code ${op}; expected one of the codes in Binary`);
  if (isContiguous(shape, aStrides) && isContiguous(shape, bStrides)) {
    const n = numel(shape);
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  const { len, steps } = innerAxis(shape, [aStrides, bStrides]);
  const sa = steps[0];
  const sb = steps[1];
  let o = 0; // out is contiguous
  forEachRow(shape, [aStrides, bStrides], [0, 0], ([ia, ib]) => {
    for (let j = 0; j < len; j++) out[o++] = f(a[ia + j * sa], b[ib + j * sb]);
  });
};

export const copyStrided: Backend['copyStrided'] = (src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape) => {
  checkStrides('copyStrided', shape, { srcStrides, dstStrides });
  if (isContiguous(shape, srcStrides) && isContiguous(shape, dstStrides)) {
    const n = numel(shape);
    if (n === 0) return;
    if (srcOffset + n > src.length || dstOffset + n > dst.length) {
      throw new RangeError(
        `copyStrided: ${n} elements from src offset ${srcOffset} (length ${src.length}) to dst offset ${dstOffset} (length ${dst.length}) run past the end`,
      );
    }
    dst.set(src.subarray(srcOffset, srcOffset + n), dstOffset);
    return;
  }
  const { len, steps } = innerAxis(shape, [srcStrides, dstStrides]);
  const ss = steps[0];
  const sd = steps[1];
  forEachRow(shape, [srcStrides, dstStrides], [srcOffset, dstOffset], ([is, id]) => {
    for (let j = 0; j < len; j++) dst[id + j * sd] = src[is + j * ss];
  });
};
