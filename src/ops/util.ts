/**
 * Small helpers shared by the op files: allocating an output tensor in the current precision, reducing a
 * broadcast gradient back to an input's shape, and validating index arrays with a clear message.
 */
import { backend } from '../backend/index.ts';
import { numel, formatShape, type Shape } from '../tensor/shape.ts';
import { allocStorage, allocUninit, Tensor } from '../tensor/tensor.ts';

/** A fresh zero tensor (not part of any graph). */
export function empty(shape: Shape): Tensor {
  return new Tensor(allocStorage(numel(shape)), shape);
}

/** A tensor with unspecified contents (see allocUninit): only for outputs a kernel overwrites entirely. */
export function emptyUninit(shape: Shape): Tensor {
  return new Tensor(allocUninit(numel(shape)), shape);
}

/** A tensor sharing `t`'s storage with a new shape of the same size (no graph). */
export function viewAs(t: Tensor, shape: Shape): Tensor {
  return new Tensor(t.data, shape);
}

/**
 * Sums `g` over the dimensions along which `shape` was broadcast to g.shape (the backward of broadcasting).
 * Returns g itself when no reduction is needed.
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const rank = g.shape.length;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  let cur = g;
  let curShape = [...g.shape];
  for (let d = 0; d < rank; d++) {
    if (padded[d] === 1 && curShape[d] !== 1) {
      const outer = numel(curShape.slice(0, d));
      const dim = curShape[d]!;
      const inner = numel(curShape.slice(d + 1));
      const next = emptyUninit([...curShape.slice(0, d), 1, ...curShape.slice(d + 1)]);
      backend().sumAxis(cur.data, next.data, outer, dim, inner);
      cur = next;
      curShape = [...next.shape];
    }
  }
  return viewAs(cur, shape);
}

/**
 * Converts ids to an Int32Array and checks 0 <= id < limit (or id === allow), naming the op and the first bad
 * position. Ids given as numbers must be integers: they are checked before the conversion, which would truncate 1.5
 * to 1, NaN to 0 and 2^32 + 1 to 1.
 */
export function checkIds(op: string, ids: Int32Array | readonly number[], limit: number, allow?: number): Int32Array {
  const bad = (id: unknown, i: number): never => {
    throw new RangeError(
      typeof id === 'number' && Number.isInteger(id)
        ? `${op}: index ${id} at position ${i} is out of range [0, ${limit})`
        : `${op}: index ${String(id)} at position ${i} is not an integer`,
    );
  };
  if (!(ids instanceof Int32Array)) {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as unknown;
      if (typeof id !== 'number' || !Number.isInteger(id) || ((id < 0 || id >= limit) && id !== allow)) bad(id, i);
    }
    return Int32Array.from(ids);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if ((id < 0 || id >= limit) && id !== allow) bad(id, i);
  }
  return ids;
}

export function checkFloat(op: string, name: string, t: Tensor, shape?: Shape): void {
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor`);
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => shape[i] !== -1 && d !== shape[i]))) {
    throw new RangeError(
      `${op}: ${name} has shape ${formatShape(t.shape)}, expected ${formatShape(shape.map((d) => (d === -1 ? '*' : d)) as unknown as number[])}`,
    );
  }
}
