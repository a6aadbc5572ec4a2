/**
 * ggml's Q8_0 quantization: a row is cut into blocks of 32 values; each block stores the scale d = max|x| / 127 as
 * an IEEE half and the 32 values as int8 round(x / d) (rounded half away from zero, as C's roundf). Dequantizing
 * multiplies each int8 by the stored half scale. Rows must be a multiple of 32 long.
 */
import { decodeInto, floatToHalf } from '../../io/dtypes.ts';
import { Q8_0_BLOCK, Q8_0_BLOCK_BYTES } from './gguf-format.ts';

const single = new Float32Array(1); // rounds d to float32, as ggml computes it

/** Quantizes `n` values of `src` starting at `srcOffset` (n a multiple of 32) into `dst` (n / 32 * 34 bytes). */
export function quantizeQ8_0(src: ArrayLike<number>, srcOffset: number, n: number, dst: Uint8Array): void {
  if (n % Q8_0_BLOCK !== 0) throw new RangeError(`quantizeQ8_0: ${n} values is not a multiple of ${Q8_0_BLOCK}`);
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let b = 0; b < n / Q8_0_BLOCK; b++) {
    const base = srcOffset + b * Q8_0_BLOCK;
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(src[base + i]!));
    single[0] = amax / 127;
    const d = single[0]!;
    const id = d !== 0 ? 1 / d : 0;
    const out = b * Q8_0_BLOCK_BYTES;
    view.setUint16(out, floatToHalf(d), true);
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      const v = src[base + i]! * id;
      view.setInt8(out + 2 + i, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
}

/** Dequantizes `n` values (n a multiple of 32) from Q8_0 bytes `src` into `dst[dstOffset..]`. */
export function dequantizeQ8_0(src: Uint8Array, n: number, dst: Float32Array, dstOffset: number): void {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const scale = new Float32Array(1);
  for (let b = 0; b < n / Q8_0_BLOCK; b++) {
    const at = b * Q8_0_BLOCK_BYTES;
    decodeInto('F16', src.subarray(at, at + 2), 1, scale, 0);
    const d = scale[0]!;
    for (let i = 0; i < Q8_0_BLOCK; i++) dst[dstOffset + b * Q8_0_BLOCK + i] = d * view.getInt8(at + 2 + i);
  }
}
