/**
 * Elementwise ops with broadcasting (add, sub, mul, div, maximum, minimum), scalar arithmetic, powers and the
 * unary activations (neg, exp, log, sqrt, tanh, relu, gelu, silu, sigmoid, abs). Each op's backward sits right
 * below its forward.
 */
import { backend, Binary, Unary } from '../backend/index.ts';
import type { BinaryOp, UnaryOp } from '../backend/backend.ts';
import { record } from '../tensor/autograd.ts';
import { broadcastShapes, broadcastStrides } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { empty, emptyUninit, sumTo } from './util.ts';

function binaryRaw(op: BinaryOp, name: string, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = emptyUninit(shape);
  if (shape.length === 0) {
    backend().binary(op, a.data, new Int32Array(0), b.data, new Int32Array(0), out.data, new Int32Array(0));
    return out;
  }
  backend().binary(
    op,
    a.data,
    Int32Array.from(broadcastStrides(a.shape, shape)),
    b.data,
    Int32Array.from(broadcastStrides(b.shape, shape)),
    out.data,
    Int32Array.from(shape),
  );
  return out;
}

function affineRaw(x: Tensor, mul: number, add: number): Tensor {
  const out = emptyUninit(x.shape);
  backend().affine(x.data, out.data, x.size, mul, add);
  return out;
}

/** a * mul + add for a scalar mul and add. */
export function affine(x: Tensor, mul: number, add: number): Tensor {
  const out = affineRaw(x, mul, add);
  return record(out, 'affine', [x], (g) => [affineRaw(g, mul, 0)]);
}

export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  const out = binaryRaw(Binary.add, 'add', a, b);
  return record(out, 'add', [a, b], (g) => [
    a.requiresGrad ? sumTo(g, a.shape) : null,
    b.requiresGrad ? sumTo(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  const out = binaryRaw(Binary.sub, 'sub', a, b);
  return record(out, 'sub', [a, b], (g) => [
    a.requiresGrad ? sumTo(g, a.shape) : null,
    b.requiresGrad ? sumTo(affineRaw(g, -1, 0), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  const out = binaryRaw(Binary.mul, 'mul', a, b);
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(binaryRaw(Binary.mul, 'mul', g, b), a.shape) : null,
    b.requiresGrad ? sumTo(binaryRaw(Binary.mul, 'mul', g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1 / b, 0);
  const out = binaryRaw(Binary.div, 'div', a, b);
  return record(out, 'div', [a, b], (g) => {
    const ga = binaryRaw(Binary.div, 'div', g, b);
    // d(a/b)/db = -a/b^2, so gb = -(g/b) * (a/b) = -ga * out
    const gb = b.requiresGrad ? sumTo(affineRaw(binaryRaw(Binary.mul, 'mul', ga, out), -1, 0), b.shape) : null;
    return [a.requiresGrad ? sumTo(ga, a.shape) : null, gb];
  });
}

/** Elementwise maximum; the gradient goes to a where a >= b, else to b. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return minMax(Binary.max, 'maximum', a, b);
}

/** Elementwise minimum; the gradient goes to a where a <= b, else to b. */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return minMax(Binary.min, 'minimum', a, b);
}

function minMax(op: BinaryOp, name: string, a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(op, name, a, b);
  return record(out, name, [a, b], (g) => {
    // pick[i] = 1 where a's (broadcast) value produced out[i].
    const aFull = binaryRaw(Binary.add, name, a, affineRaw(out, 0, 0));
    const pick = new Uint8Array(out.size);
    for (let i = 0; i < out.size; i++) pick[i] = aFull.data[i] === out.data[i] ? 1 : 0;
    const zero = empty(out.shape);
    const ga = empty(out.shape);
    const gb = empty(out.shape);
    backend().where(pick, g.data, zero.data, ga.data, out.size);
    backend().where(pick, zero.data, g.data, gb.data, out.size);
    return [sumTo(ga, a.shape), sumTo(gb, b.shape)];
  });
}

export function pow(x: Tensor, p: number): Tensor {
  const out = emptyUninit(x.shape);
  backend().powScalar(x.data, out.data, x.size, p);
  return record(out, 'pow', [x], (g) => {
    const d = emptyUninit(x.shape);
    backend().powScalar(x.data, d.data, x.size, p - 1);
    return [binaryRaw(Binary.mul, 'pow', g, affineRaw(d, p, 0))];
  });
}

function unaryOp(op: UnaryOp, name: string, x: Tensor): Tensor {
  const out = emptyUninit(x.shape);
  backend().unary(op, x.data, out.data, x.size);
  return record(out, name, [x], (g) => {
    const dx = emptyUninit(x.shape);
    backend().unaryBackward(op, x.data, out.data, g.data, dx.data, x.size);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp(Unary.neg, 'neg', x);
export const exp = (x: Tensor): Tensor => unaryOp(Unary.exp, 'exp', x);
export const log = (x: Tensor): Tensor => unaryOp(Unary.log, 'log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp(Unary.sqrt, 'sqrt', x);
export const tanh = (x: Tensor): Tensor => unaryOp(Unary.tanh, 'tanh', x);
export const relu = (x: Tensor): Tensor => unaryOp(Unary.relu, 'relu', x);
export const silu = (x: Tensor): Tensor => unaryOp(Unary.silu, 'silu', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp(Unary.sigmoid, 'sigmoid', x);
export const abs = (x: Tensor): Tensor => unaryOp(Unary.abs, 'abs', x);

/** GELU: the tanh approximation (GPT-2's choice) by default, or the exact erf form. */
export function gelu(x: Tensor, approximate: 'tanh' | 'none' = 'tanh'): Tensor {
  return unaryOp(approximate === 'tanh' ? Unary.geluTanh : Unary.geluErf, 'gelu', x);
}
