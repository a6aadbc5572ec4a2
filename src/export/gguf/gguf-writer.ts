/**
 * Writing a GGUF file: the header, the metadata key/value pairs (general.alignment added when missing), the tensor
 * infos with offsets aligned to the alignment, zero padding, then each tensor's data encoded chunk by chunk as F32,
 * F16 or Q8_0, so a large model never needs a second copy of itself in memory. Dimensions are given innermost
 * first, as ggml counts them (a PyTorch (out, in) weight is [in, out]); the element order is row-major, unchanged.
 * The file is written under a temporary name, flushed and renamed into place.
 */
import { encodeInto } from '../../io/dtypes.ts';
import {
  alignUp,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  ggmlBytes,
  GgufValueType,
  Q8_0_BLOCK,
  type GgufKv,
  type GgufScalarType,
} from './gguf-format.ts';
import { quantizeQ8_0 } from './q8-0.ts';
import { writeAll, writeFileAtomicWith } from '../../util/atomic.ts';

export interface GgufTensorToWrite {
  name: string;
  /** Dimensions innermost first (ggml's ne[0], ne[1], ...). */
  dims: readonly number[];
  type: GgmlType;
  /** Values in row-major order (the innermost dimension varies fastest). */
  data: ArrayLike<number>;
}

/** A growable little-endian byte buffer for the header, metadata and tensor infos. */
class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  i8(v: number): void {
    this.room(1);
    this.buf.writeInt8(v, this.length);
    this.length += 1;
  }
  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }
  i16(v: number): void {
    this.room(2);
    this.buf.writeInt16LE(v, this.length);
    this.length += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }
  u64(v: number | bigint): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  i64(v: number | bigint): void {
    this.room(8);
    this.buf.writeBigInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.room(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeScalar(w: ByteWriter, type: GgufScalarType, v: number | bigint | boolean | string, key: string): void {
  const num = (): number => {
    if (typeof v !== 'number')
      throw new TypeError(`writeGguf: metadata "${key}" expects a number, received ${typeof v}`);
    return v;
  };
  switch (type) {
    case GgufValueType.UINT8:
      w.u8(num());
      return;
    case GgufValueType.INT8:
      w.i8(num());
      return;
    case GgufValueType.UINT16:
      w.u16(num());
      return;
    case GgufValueType.INT16:
      w.i16(num());
      return;
    case GgufValueType.UINT32:
      w.u32(num());
      return;
    case GgufValueType.INT32:
      w.i32(num());
      return;
    case GgufValueType.FLOAT32:
      w.f32(num());
      return;
    case GgufValueType.FLOAT64:
      w.f64(num());
      return;
    case GgufValueType.UINT64:
      w.u64(typeof v === 'bigint' ? v : num());
      return;
    case GgufValueType.INT64:
      w.i64(typeof v === 'bigint' ? v : num());
      return;
    case GgufValueType.BOOL:
      w.u8(v ? 1 : 0);
      return;
    case GgufValueType.STRING:
      if (typeof v !== 'string')
        throw new TypeError(`writeGguf: metadata "${key}" expects a string, received ${typeof v}`);
      w.str(v);
      return;
    default:
      throw new RangeError(`writeGguf: metadata "${key}" has unknown value type ${String(type)}`);
  }
}

const CHUNK = 1 << 16; // elements per encoded chunk (a multiple of the Q8_0 block)

/**
 * Writes `tensors` with `metadata` to `path` as GGUF version 3 (parent directories created); `onTensor` is called
 * after each tensor's data with the count written so far.
 */
export function writeGguf(
  path: string,
  metadata: readonly GgufKv[],
  tensors: readonly GgufTensorToWrite[],
  onTensor?: (done: number) => void,
): void {
  const kvs = [...metadata];
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignKv = kvs.find((kv) => kv.key === 'general.alignment');
  if (alignKv) alignment = Number(alignKv.value);
  else kvs.push({ key: 'general.alignment', type: GgufValueType.UINT32, value: alignment });
  if (!(Number.isInteger(alignment) && alignment > 0 && alignment % 8 === 0))
    throw new RangeError(`writeGguf: general.alignment must be a positive multiple of 8, received ${alignment}`);
  const keys = new Set<string>();
  for (const kv of kvs) {
    if (keys.has(kv.key)) throw new RangeError(`writeGguf: metadata key "${kv.key}" appears twice`);
    keys.add(kv.key);
  }

  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const kv of kvs) {
    w.str(kv.key);
    w.u32(kv.type);
    if (kv.type === GgufValueType.ARRAY) {
      w.u32(kv.itemType);
      w.u64(kv.value.length);
      for (const item of kv.value) writeScalar(w, kv.itemType, item, kv.key);
    } else {
      writeScalar(w, kv.type, kv.value, kv.key);
    }
  }
  let offset = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new RangeError(`writeGguf: tensor "${t.name}" appears twice`);
    names.add(t.name);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new RangeError(
        `writeGguf: tensor "${t.name}" has dims [${t.dims.join(', ')}] (${n} elements) but ${t.data.length} values`,
      );
    if (t.type === GgmlType.Q8_0 && t.dims[0]! % Q8_0_BLOCK !== 0)
      throw new RangeError(
        `writeGguf: tensor "${t.name}": Q8_0 needs rows of a multiple of ${Q8_0_BLOCK} values, received ${t.dims[0]}`,
      );
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset = alignUp(offset + ggmlBytes(t.type, n), alignment);
  }
  const head = w.bytes();
  const dataStart = alignUp(head.length, alignment);

  writeFileAtomicWith(path, (fd) => {
    writeAll(fd, head);
    writeAll(fd, new Uint8Array(dataStart - head.length));
    let pos = 0;
    let written = 0;
    const chunk = Buffer.alloc(CHUNK * 4);
    for (const t of tensors) {
      const n = t.data.length;
      for (let done = 0; done < n; done += CHUNK) {
        const m = Math.min(CHUNK, n - done);
        const bytes = ggmlBytes(t.type, m);
        const view = chunk.subarray(0, bytes);
        if (t.type === GgmlType.Q8_0) quantizeQ8_0(t.data, done, m, view);
        else encodeInto(t.type === GgmlType.F32 ? 'F32' : 'F16', t.data, done, m, view);
        writeAll(fd, view);
        pos += bytes;
      }
      const padded = alignUp(pos, alignment);
      writeAll(fd, new Uint8Array(padded - pos));
      pos = padded;
      onTensor?.(++written);
    }
  });
}
