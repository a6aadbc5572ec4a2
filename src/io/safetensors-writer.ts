/**
 * Writing a safetensors file tensor by tensor: the header first, then each tensor's bytes encoded in chunks
 * (float32, or F16/BF16 rounded to nearest even), so exporting a large model needs no copy of the whole file in
 * memory. The file is written under a temporary name, flushed, and renamed into place (never a torn file).
 */
import { endianness } from 'node:os';
import { DTYPE_BYTES, encodeInto, type WeightDtype } from './dtypes.ts';
import { buildHeader } from './safetensors-header.ts';
import { writeAll, writeFileAtomicWith } from '../util/atomic.ts';

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: ArrayLike<number>;
  /** Stored dtype (default F32). */
  dtype?: WeightDtype;
}

const CHUNK_ELEMENTS = 1 << 18;
const littleEndian = endianness() === 'LE';

/** Writes `tensors` in order to `path` (parent directories created) with optional string metadata. */
export function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): void {
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new RangeError(
        `writeSafetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}] (${n} elements) but ${t.data.length} values`,
      );
  }
  const { bytes } = buildHeader(
    tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype ?? 'F32' })),
    metadata,
  );
  writeFileAtomicWith(path, (fd) => {
    writeAll(fd, bytes);
    const chunk = Buffer.alloc(CHUNK_ELEMENTS * 4);
    for (const t of tensors) {
      const dtype = t.dtype ?? 'F32';
      const width = DTYPE_BYTES[dtype];
      if (dtype === 'F32' && t.data instanceof Float32Array && littleEndian) {
        writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        continue;
      }
      for (let done = 0; done < t.data.length; done += CHUNK_ELEMENTS) {
        const n = Math.min(CHUNK_ELEMENTS, t.data.length - done);
        const view = chunk.subarray(0, n * width);
        encodeInto(dtype, t.data, done, n, view);
        writeAll(fd, view);
      }
    }
  });
}
