/**
 * Selection by a boolean mask: `where(cond, a, b)` and `maskedFill(x, mask, value)`. Masks are Uint8Array
 * (0 or 1) with one entry per element.
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { formatShape, sameShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { empty } from './util.ts';

export function where(cond: Uint8Array, a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape) || cond.length !== a.size) {
    throw new RangeError(
      `where: a ${formatShape(a.shape)}, b ${formatShape(b.shape)} and cond (${cond.length} entries) must match`,
    );
  }
  const out = empty(a.shape);
  backend().where(cond, a.data, b.data, out.data, a.size);
  return record(out, 'where', [a, b], (g) => {
    const zero = empty(a.shape);
    const ga = empty(a.shape);
    const gb = empty(a.shape);
    backend().where(cond, g.data, zero.data, ga.data, a.size);
    backend().where(cond, zero.data, g.data, gb.data, a.size);
    return [ga, gb];
  });
}

/** x with `value` wherever mask is 1; no gradient flows through filled positions. */
export function maskedFill(x: Tensor, mask: Uint8Array, value: number): Tensor {
  if (mask.length !== x.size)
    throw new RangeError(`maskedFill: mask has ${mask.length} entries, x ${formatShape(x.shape)} has ${x.size}`);
  const out = empty(x.shape);
  backend().maskedFill(x.data, mask, value, out.data, x.size);
  return record(out, 'maskedFill', [x], (g) => {
    const dx = empty(x.shape);
    backend().maskedFill(g.data, mask, 0, dx.data, x.size);
    return [dx];
  });
}
