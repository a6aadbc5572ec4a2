/**
 * Reductions over dimensions: sum, mean and max (with keepdim), plus argmax. Multi-dim reductions are done one
 * axis at a time as (outer, dim, inner) views.
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { normDim, numel } from '../tensor/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { affine } from './elementwise.ts';
import { expand } from './view.ts';
import { empty } from './util.ts';

function dimsOf(op: string, x: Tensor, dims?: number | readonly number[]): number[] {
  if (dims === undefined) return [...Array(x.ndim).keys()];
  const list = typeof dims === 'number' ? [dims] : [...dims];
  return [...new Set(list.map((d) => normDim(op, d, x.ndim)))].sort((a, b) => a - b);
}

function sumRaw(x: Tensor, dims: number[]): Tensor {
  let cur = x;
  let shape = [...x.shape];
  for (const d of dims) {
    const next = empty([...shape.slice(0, d), 1, ...shape.slice(d + 1)]);
    backend().sumAxis(cur.data, next.data, numel(shape.slice(0, d)), shape[d]!, numel(shape.slice(d + 1)));
    cur = next;
    shape = [...next.shape];
  }
  return cur === x ? x.clone() : cur;
}

/** Sum over `dims` (all by default). */
export function sum(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = dimsOf('sum', x, dims);
  const kept = sumRaw(x, ds);
  const keptShape = kept.shape;
  const outShape = keepdim ? keptShape : x.shape.filter((_, i) => !ds.includes(i));
  const out = new Tensor(kept.data, outShape);
  return record(out, 'sum', [x], (g) => [expand(new Tensor(g.data, keptShape), x.shape)]);
}

/** Mean over `dims` (all by default). */
export function mean(x: Tensor, dims?: number | readonly number[], keepdim = false): Tensor {
  const ds = dimsOf('mean', x, dims);
  const count = ds.reduce((n, d) => n * x.shape[d]!, 1);
  return affine(sum(x, ds, keepdim), 1 / count, 0);
}

/** Maximum over one dim; the gradient flows to the first position attaining it. */
export function max(x: Tensor, dim = -1, keepdim = false): Tensor {
  const d = normDim('max', dim, x.ndim);
  const outer = numel(x.shape.slice(0, d));
  const n = x.shape[d]!;
  const inner = numel(x.shape.slice(d + 1));
  if (n === 0) throw new RangeError('max: cannot reduce an empty dimension');
  const keptShape = [...x.shape.slice(0, d), 1, ...x.shape.slice(d + 1)];
  const values = empty(keptShape);
  const arg = new Int32Array(outer * inner);
  backend().maxAxis(x.data, values.data, arg, outer, n, inner);
  const out = new Tensor(values.data, keepdim ? keptShape : x.shape.filter((_, i) => i !== d));
  return record(out, 'max', [x], (g) => {
    const gx = empty(x.shape);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const r = o * inner + i;
        gx.data[(o * n + arg[r]!) * inner + i] = g.data[r]!;
      }
    }
    return [gx];
  });
}

/** Index of the maximum along `dim` (first one on ties), as an Int32Array in row-major order of the rest. */
export function argmax(x: Tensor, dim = -1): Int32Array {
  const d = normDim('argmax', dim, x.ndim);
  const outer = numel(x.shape.slice(0, d));
  const n = x.shape[d]!;
  const inner = numel(x.shape.slice(d + 1));
  const values = empty([outer * inner]);
  const arg = new Int32Array(outer * inner);
  backend().maxAxis(x.data, values.data, arg, outer, n, inner);
  return arg;
}
