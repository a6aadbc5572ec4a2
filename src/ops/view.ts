/**
 * Shape ops: reshape (a view sharing storage), permute/transpose, slice, concat, split and expand (copies
 * through the backend's strided copy, so every result is contiguous again).
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { broadcastStrides, formatShape, normDim, numel, stridesOf, type Shape } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { empty, sumTo } from './util.ts';

/** Same data, new shape (one dimension may be -1). Shares storage with x. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const resolved = [...shape];
  const infer = resolved.indexOf(-1);
  if (infer !== resolved.lastIndexOf(-1))
    throw new RangeError(`reshape: only one dimension can be -1, got ${formatShape(shape)}`);
  if (infer >= 0) {
    const known = numel(resolved.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) {
      throw new RangeError(
        `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`,
      );
    }
    resolved[infer] = x.size / known;
  }
  if (numel(resolved) !== x.size) {
    throw new RangeError(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)} (${numel(resolved)} elements)`,
    );
  }
  const out = new Tensor(x.data, resolved);
  return record(out, 'reshape', [x], (g) => [new Tensor(g.data, x.shape)]);
}

function copyStrided(
  src: Tensor,
  srcOffset: number,
  srcStrides: number[],
  dst: Tensor,
  dstOffset: number,
  dstStrides: number[],
  shape: number[],
): void {
  if (numel(shape) === 0) return;
  backend().copyStrided(
    src.data,
    srcOffset,
    Int32Array.from(srcStrides),
    dst.data,
    dstOffset,
    Int32Array.from(dstStrides),
    Int32Array.from(shape),
  );
}

function permuteRaw(x: Tensor, perm: readonly number[]): Tensor {
  const outShape = perm.map((p) => x.shape[p]!);
  const out = empty(outShape);
  const xs = stridesOf(x.shape);
  copyStrided(
    x,
    0,
    perm.map((p) => xs[p]!),
    out,
    0,
    stridesOf(outShape),
    outShape,
  );
  return out;
}

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.ndim;
  const norm = perm.map((p) => normDim('permute', p, rank));
  if (norm.length !== rank || new Set(norm).size !== rank) {
    throw new RangeError(
      `permute: [${perm.join(', ')}] is not a permutation of the ${rank} dims of ${formatShape(x.shape)}`,
    );
  }
  const out = permuteRaw(x, norm);
  const inverse = new Array<number>(rank);
  norm.forEach((p, i) => {
    inverse[p] = i;
  });
  return record(out, 'permute', [x], (g) => [permuteRaw(g, inverse)]);
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const perm = [...Array(x.ndim).keys()];
  const a = normDim('transpose', dim0, x.ndim);
  const b = normDim('transpose', dim1, x.ndim);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** x[..., start:end, ...] along `dim` (end exclusive; negative indices count from the end). */
export function slice(x: Tensor, dim: number, start: number, end?: number): Tensor {
  const d = normDim('slice', dim, x.ndim);
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  const e = end === undefined ? size : end < 0 ? end + size : end;
  if (s < 0 || e > size || s > e) {
    throw new RangeError(`slice: range [${start}, ${end ?? size}) is out of bounds for dim ${dim} of size ${size}`);
  }
  const outShape = [...x.shape];
  outShape[d] = e - s;
  const out = empty(outShape);
  const xs = stridesOf(x.shape);
  copyStrided(x, s * xs[d]!, xs, out, 0, stridesOf(outShape), outShape);
  return record(out, 'slice', [x], (g) => {
    const gx = empty(x.shape);
    copyStrided(g, 0, stridesOf(outShape), gx, s * xs[d]!, xs, outShape);
    return [gx];
  });
}

/** Joins tensors along `dim`; all other dims must match. */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new RangeError('concat: needs at least one tensor');
  const first = xs[0]!;
  const d = normDim('concat', dim, first.ndim);
  for (const [i, t] of xs.entries()) {
    if (t.ndim !== first.ndim || t.shape.some((n, j) => j !== d && n !== first.shape[j])) {
      throw new RangeError(
        `concat: tensor ${i} has shape ${formatShape(t.shape)}, incompatible with ${formatShape(first.shape)} along dim ${dim}`,
      );
    }
  }
  const outShape = [...first.shape];
  outShape[d] = xs.reduce((s, t) => s + t.shape[d]!, 0);
  const out = empty(outShape);
  const os = stridesOf(outShape);
  const offsets: number[] = [];
  let at = 0;
  for (const t of xs) {
    offsets.push(at);
    copyStrided(t, 0, stridesOf(t.shape), out, at * os[d]!, os, [...t.shape]);
    at += t.shape[d]!;
  }
  return record(out, 'concat', xs, (g) =>
    xs.map((t, i) => {
      if (!t.requiresGrad) return null;
      const gt = empty(t.shape);
      copyStrided(g, offsets[i]! * os[d]!, os, gt, 0, stridesOf(t.shape), [...t.shape]);
      return gt;
    }),
  );
}

/** Splits x along `dim` into pieces of the given sizes (or equal pieces of size `sizes`). */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim('split', dim, x.ndim);
  const total = x.shape[d]!;
  const list =
    typeof sizes === 'number'
      ? Array.from({ length: Math.ceil(total / sizes) }, (_, i) => Math.min(sizes, total - i * sizes))
      : [...sizes];
  if (list.reduce((a, b) => a + b, 0) !== total) {
    throw new RangeError(`split: sizes [${list.join(', ')}] do not add up to dim ${dim} of size ${total}`);
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const n of list) {
    out.push(slice(x, d, at, at + n));
    at += n;
  }
  return out;
}

/** Broadcasts x to `shape` (materialized copy); the backward sums over the broadcast dims. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const out = empty(shape);
  copyStrided(x, 0, broadcastStrides(x.shape, shape), out, 0, stridesOf(shape), [...shape]);
  return record(out, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}
