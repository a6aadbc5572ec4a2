/**
 * The Tensor: a float32 array in contiguous row-major order with a shape, plus what reverse-mode autograd needs
 * (the node that produced it, a gradient slot, and a requiresGrad flag that freezes or unfreezes a parameter).
 * Storage is an ordinary typed array, so V8's garbage collector sees and frees it (inside a training step it comes
 * from a StorageArena, see arena.ts, and is reused by the next step); native kernels read and write it in place
 * without copies. Ops live in `src/ops`; this class only holds data and drives `backward()`.
 */
import { isFloat64, type FloatArray } from '../backend/index.ts';
import { activeArena } from './arena.ts';
import { runBackward } from './autograd.ts';
import { checkShape, formatShape, numel, type Shape } from './shape.ts';

/** How a tensor was computed: its inputs and the vector-Jacobian product back to them. */
export interface GradNode {
  /** Op name, for error messages and debugging. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradients for each input (null where an input needs none), given the gradient of the output. */
  backward(gradOut: Tensor): (Tensor | null)[];
}

/** Allocates zeroed storage in the current precision (float32; float64 inside withFloat64), from the active arena if any. */
export function allocStorage(n: number): FloatArray {
  if (isFloat64()) return new Float64Array(n);
  const arena = activeArena();
  return arena !== null ? arena.alloc(n, true) : new Float32Array(n);
}

/**
 * Like allocStorage, but the contents are unspecified (zero when fresh, the previous step's values when the active
 * arena reuses a buffer): only for outputs the caller overwrites entirely.
 */
export function allocUninit(n: number): FloatArray {
  if (isFloat64()) return new Float64Array(n);
  const arena = activeArena();
  return arena !== null ? arena.alloc(n, false) : new Float32Array(n);
}

export class Tensor {
  readonly shape: Shape;
  /** Number of elements. */
  readonly size: number;
  data: FloatArray;
  /** True for parameters being trained and for values computed from them while grad mode is on. */
  requiresGrad: boolean;
  /** Accumulated gradient (leaf tensors only), or null. */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and for values computed without grad). */
  node: GradNode | null;
  /** Optional name (parameters), used in error messages and checkpoints. */
  name: string | undefined;

  constructor(data: FloatArray, shape: Shape, requiresGrad = false, node: GradNode | null = null) {
    checkShape('Tensor', shape);
    const n = numel(shape);
    if (data.length !== n) {
      throw new RangeError(`Tensor: shape ${formatShape(shape)} needs ${n} elements, received ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.size = n;
    this.requiresGrad = requiresGrad;
    this.node = node;
    this.name = undefined;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded op (parameters, inputs, detached values). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new RangeError(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, expected 1`);
    return this.data[0]!;
  }

  /** A copy of the values as a flat number array. */
  toFlatArray(): number[] {
    return Array.from(this.data);
  }

  /** The values as nested arrays following the shape (a number for rank 0). */
  toArray(): unknown {
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return this.data[offset];
      const inner = numel(this.shape.slice(dim + 1));
      const out: unknown[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, offset + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** A new leaf sharing this tensor's storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false, null);
  }

  /** A new leaf with a copy of the data. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, false, null);
  }

  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * Reverse-mode differentiation from this tensor. A scalar output needs no argument; otherwise pass the
   * gradient of the final objective with respect to this tensor. Gradients accumulate into leaves' `.grad`.
   */
  backward(grad?: Tensor): void {
    runBackward(this, grad);
  }

  toString(): string {
    const fmt = (v: number): string => {
      if (Number.isInteger(v) && Math.abs(v) < 1e6) return `${v}.`;
      const a = Math.abs(v);
      return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(4) : v.toFixed(4);
    };
    const limit = 6;
    const render = (dim: number, offset: number, indent: string): string => {
      if (this.shape.length === 0) return fmt(this.data[0]!);
      const n = this.shape[dim]!;
      const inner = numel(this.shape.slice(dim + 1));
      const idx = n > limit ? [0, 1, 2, -1, n - 3, n - 2, n - 1] : [...Array(n).keys()];
      if (dim === this.shape.length - 1) {
        return `[${idx.map((i) => (i < 0 ? '...' : fmt(this.data[offset + i]!))).join(', ')}]`;
      }
      const rows = idx.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * inner, `${indent} `)));
      return `[${rows.join(`,\n${indent} `)}]`;
    };
    const extras = [`shape=${formatShape(this.shape)}`];
    if (this.node) extras.push(`grad_fn=${this.node.op}`);
    else if (this.requiresGrad) extras.push('requiresGrad=true');
    return `tensor(${render(0, 0, '       ')}, ${extras.join(', ')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
