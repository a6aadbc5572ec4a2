/**
 * Creating tensors: from nested arrays or flat data, constants, ranges, and seeded random draws. Random
 * tensors come from an `Rng` in TypeScript, so the same seed gives the same values on every backend.
 */
import type { FloatArray } from '../backend/index.ts';
import { Rng } from './random.ts';
import { checkShape, formatShape, numel, type Shape } from './shape.ts';
import { allocStorage, Tensor } from './tensor.ts';

export interface CreateOptions {
  requiresGrad?: boolean;
}

function make(data: FloatArray, shape: Shape, opts?: CreateOptions): Tensor {
  return new Tensor(data, shape, opts?.requiresGrad ?? false);
}

/** A tensor from nested number arrays (shape inferred) or from flat values and an explicit shape. */
export function tensor(values: unknown, shape?: Shape, opts?: CreateOptions): Tensor {
  if (shape !== undefined) {
    checkShape('tensor', shape);
    const flat =
      typeof values === 'number'
        ? [values]
        : ArrayBuffer.isView(values)
          ? Array.from(values as unknown as ArrayLike<number>)
          : ((values as number[]).flat(Infinity) as number[]);
    if (flat.length !== numel(shape)) {
      throw new RangeError(`tensor: shape ${formatShape(shape)} needs ${numel(shape)} values, received ${flat.length}`);
    }
    const data = allocStorage(flat.length);
    data.set(flat);
    return make(data, shape, opts);
  }
  const inferred: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    inferred.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === inferred.length) {
      if (typeof v !== 'number') throw new TypeError(`tensor: element ${path} must be a number, received ${typeof v}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== inferred[dim]) {
      throw new RangeError(`tensor: ragged nested array at ${path || 'top level'}: expected length ${inferred[dim]}`);
    }
    v.forEach((x, i) => {
      walk(x, dim + 1, `${path}[${i}]`);
    });
  };
  walk(values, 0, '');
  const data = allocStorage(flat.length);
  data.set(flat);
  return make(data, inferred, opts);
}

/** Wraps existing storage (no copy). */
export function fromData(data: FloatArray, shape: Shape, opts?: CreateOptions): Tensor {
  return make(data, shape, opts);
}

export function zeros(shape: Shape, opts?: CreateOptions): Tensor {
  checkShape('zeros', shape);
  return make(allocStorage(numel(shape)), shape, opts);
}

export function full(shape: Shape, value: number, opts?: CreateOptions): Tensor {
  checkShape('full', shape);
  const data = allocStorage(numel(shape));
  data.fill(value);
  return make(data, shape, opts);
}

export function ones(shape: Shape, opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  return zeros(t.shape, opts);
}

/** Values start, start + step, ... below end (a 1-D tensor). */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocStorage(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return make(data, [n], opts);
}

export interface RandomOptions extends CreateOptions {
  /** Seed for a fresh generator (default 0). Ignored when `rng` is given. */
  seed?: number;
  /** Generator to draw from (advances its state). */
  rng?: Rng;
}

/** Normal draws with the given mean and standard deviation. */
export function randn(shape: Shape, opts?: RandomOptions & { mean?: number; std?: number }): Tensor {
  checkShape('randn', shape);
  const rng = opts?.rng ?? new Rng(opts?.seed ?? 0);
  const mean = opts?.mean ?? 0;
  const std = opts?.std ?? 1;
  const data = allocStorage(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return make(data, shape, opts);
}

/** Uniform draws in [low, high). */
export function uniform(shape: Shape, low = 0, high = 1, opts?: RandomOptions): Tensor {
  checkShape('uniform', shape);
  const rng = opts?.rng ?? new Rng(opts?.seed ?? 0);
  const data = allocStorage(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.random();
  return make(data, shape, opts);
}
