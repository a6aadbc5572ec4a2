/**
 * Rotary position embedding (RoPE) on (B, T, H, D) activations with the "rotate half" pairing of Hugging Face
 * Llama, and the cos/sin tables it reads. The backward is the same rotation by the opposite angle.
 */
import type { FloatArray } from '../backend/index.ts';
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { formatShape } from '../tensor/shape.ts';
import { allocStorage, type Tensor } from '../tensor/tensor.ts';
import { empty } from './util.ts';

export interface RopeTables {
  /** (T, D/2) */
  cos: FloatArray;
  /** (T, D/2) */
  sin: FloatArray;
  T: number;
  D: number;
}

/** Angles pos * base^(-2i/D) for positions offset..offset+T-1 and i < D/2. */
export function ropeTables(T: number, D: number, base = 10000, offset = 0): RopeTables {
  if (D % 2 !== 0) throw new RangeError(`ropeTables: head size D=${D} must be even`);
  return ropeTablesFor(
    T,
    Float64Array.from({ length: D / 2 }, (_, i) => base ** ((-2 * i) / D)),
    offset,
  );
}

/** Angles pos * invFreq[i] for positions offset..offset+T-1 (head size D = 2 * invFreq.length): scaled RoPE. */
export function ropeTablesFor(T: number, invFreq: ArrayLike<number>, offset = 0): RopeTables {
  const half = invFreq.length;
  const cos = allocStorage(T * half);
  const sin = allocStorage(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = (offset + t) * invFreq[i]!;
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin, T, D: 2 * half };
}

/** Rotates x (B, T, H, D) by the angles in `tables` (which must be for these T positions). */
export function rope(x: Tensor, tables: RopeTables): Tensor {
  if (x.ndim !== 4) throw new RangeError(`rope: x must be (B, T, H, D), received ${formatShape(x.shape)}`);
  const [B, T, H, D] = x.shape as [number, number, number, number];
  if (tables.T !== T || tables.D !== D) {
    throw new RangeError(`rope: tables are for T=${tables.T}, D=${tables.D} but x is ${formatShape(x.shape)}`);
  }
  const out = empty(x.shape);
  backend().rope(x.data, out.data, tables.cos, tables.sin, B, T, H, D, false);
  return record(out, 'rope', [x], (g) => {
    const dx = empty(x.shape);
    backend().rope(g.data, dx.data, tables.cos, tables.sin, B, T, H, D, true);
    return [dx];
  });
}
