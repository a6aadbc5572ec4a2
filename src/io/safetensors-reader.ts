/**
 * Reading a safetensors file without holding it in memory: `SafetensorsReader` reads only the header when it
 * opens, then each tensor's byte range on request with positional reads straight into the destination array
 * (F32 on a little-endian machine) or through one reused scratch chunk converted piece by piece (F16, BF16). A
 * 500 MB checkpoint therefore loads into the model's own parameter arrays with at most one chunk of extra memory.
 * `bytesRead` counts the bytes actually read, so tests (and curious users) can see what a load touched.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { decodeInto, DTYPE_BYTES } from './dtypes.ts';
import { fail, headerLength, parseHeader, type SafetensorsHeader, type TensorInfo } from './safetensors-header.ts';

/** Bytes converted per step for F16/BF16 tensors (and for F32 on big-endian machines). */
export const READ_CHUNK_BYTES = 1 << 20;

const littleEndian = endianness() === 'LE';

export class SafetensorsReader {
  readonly path: string;
  readonly header: SafetensorsHeader;
  /** Bytes read from the file so far (header included). */
  bytesRead = 0;
  private fd: number | null;
  private scratch: Buffer | null = null;

  private constructor(path: string, fd: number, header: SafetensorsHeader, headerBytes: number) {
    this.path = path;
    this.fd = fd;
    this.header = header;
    this.bytesRead = headerBytes;
  }

  /** Opens `path` and reads its header; errors name the file. */
  static open(path: string): SafetensorsReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      fail(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      const size = fstatSync(fd).size;
      const first = Buffer.alloc(8);
      readFully(fd, first, 0, Math.min(8, size), 0, path);
      const len = headerLength(first, size, path);
      const json = Buffer.alloc(len);
      readFully(fd, json, 0, len, 8, path);
      return new SafetensorsReader(path, fd, parseHeader(json, size, path), 8 + len);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get tensors(): ReadonlyMap<string, TensorInfo> {
    return this.header.tensors;
  }

  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  /** The tensor's description; an error naming the file when it is absent. */
  info(name: string): TensorInfo {
    const t = this.header.tensors.get(name);
    if (!t) fail(this.path, `tensor "${name}" is missing`);
    return t;
  }

  /** Reads tensor `name` as float32 into `dest` (length = its element count), converting F16/BF16 chunk by chunk. */
  readInto(name: string, dest: Float32Array): void {
    const t = this.info(name);
    if (dest.length !== t.size)
      throw new RangeError(`${this.path}: tensor "${name}" has ${t.size} elements, the destination ${dest.length}`);
    const fd = this.openFd();
    if (t.dtype === 'F32' && littleEndian) {
      readFully(fd, new Uint8Array(dest.buffer, dest.byteOffset, t.byteLength), 0, t.byteLength, t.start, this.path);
      this.bytesRead += t.byteLength;
      return;
    }
    const width = DTYPE_BYTES[t.dtype];
    this.scratch ??= Buffer.alloc(READ_CHUNK_BYTES);
    const scratch = this.scratch;
    const perChunk = Math.floor(READ_CHUNK_BYTES / width);
    for (let done = 0; done < t.size; done += perChunk) {
      const n = Math.min(perChunk, t.size - done);
      readFully(fd, scratch, 0, n * width, t.start + done * width, this.path);
      decodeInto(t.dtype, scratch, n, dest, done);
      this.bytesRead += n * width;
    }
  }

  /** Tensor `name` as a new float32 array. */
  read(name: string): Float32Array {
    const out = new Float32Array(this.info(name).size);
    this.readInto(name, out);
    return out;
  }

  /** The tensor's stored bytes, unconverted (for byte-exact comparisons and copies). */
  readRaw(name: string): Uint8Array {
    const t = this.info(name);
    const out = new Uint8Array(t.byteLength);
    readFully(this.openFd(), out, 0, t.byteLength, t.start, this.path);
    this.bytesRead += t.byteLength;
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.scratch = null;
  }

  private openFd(): number {
    if (this.fd === null) throw new Error(`${this.path}: the safetensors reader is closed`);
    return this.fd;
  }
}

function readFully(fd: number, buf: Uint8Array, offset: number, length: number, position: number, path: string): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) fail(path, `unexpected end of file at byte ${position + done} (the file is truncated)`);
    done += n;
  }
}

/** Opens a reader, runs `fn`, and closes the file whatever happens. */
export function withSafetensors<T>(path: string, fn: (reader: SafetensorsReader) => T): T {
  const reader = SafetensorsReader.open(path);
  try {
    return fn(reader);
  } finally {
    reader.close();
  }
}
