/**
 * The tensor element types llmforge reads and writes in weight files (F32, F16, BF16) and the conversions between
 * them and float32, done chunk by chunk over raw little-endian bytes: F16 through a 65,536-entry lookup table built
 * on first use, BF16 as the upper half of a float32, and float32 -> F16/BF16 with round-to-nearest-even.
 */

export type WeightDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element of each supported dtype. */
export const DTYPE_BYTES: Readonly<Record<WeightDtype, number>> = { F32: 4, F16: 2, BF16: 2 };

export function isWeightDtype(d: unknown): d is WeightDtype {
  return d === 'F32' || d === 'F16' || d === 'BF16';
}

let halfTable: Float32Array | null = null;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function table(): Float32Array {
  if (halfTable === null) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/**
 * Converts `n` elements of little-endian `dtype` bytes (starting at `src[0]`) into `dst[dstOffset..]`.
 * `src` must hold at least n * DTYPE_BYTES[dtype] bytes.
 */
export function decodeInto(dtype: WeightDtype, src: Uint8Array, n: number, dst: Float32Array, dstOffset: number): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) dst[dstOffset + i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'F16') {
    const t = table();
    for (let i = 0; i < n; i++) dst[dstOffset + i] = t[view.getUint16(2 * i, true)]!;
  } else {
    const u32 = new Uint32Array(dst.buffer, dst.byteOffset + 4 * dstOffset, n);
    for (let i = 0; i < n; i++) u32[i] = view.getUint16(2 * i, true) << 16;
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> bfloat16 bits, rounding to nearest even (NaN stays NaN). */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 -> IEEE half bits, rounding to nearest even; overflow becomes infinity. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  let half = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) {
    half++;
    if (half === 0x400) {
      half = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | half;
}

/** Encodes `n` float32 values from `src[srcOffset..]` as little-endian `dtype` bytes into `dst[0..]`. */
export function encodeInto(
  dtype: WeightDtype,
  src: ArrayLike<number>,
  srcOffset: number,
  n: number,
  dst: Uint8Array,
): void {
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) view.setFloat32(4 * i, src[srcOffset + i]!, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < n; i++) view.setUint16(2 * i, floatToHalf(src[srcOffset + i]!), true);
  } else {
    for (let i = 0; i < n; i++) view.setUint16(2 * i, floatToBf16(src[srcOffset + i]!), true);
  }
}
