/**
 * Reading a GGUF file: the header and metadata are parsed through a paged positional reader (nothing but the
 * header is held in memory), every count, length and type is checked against the file's size, and a tensor is read
 * on request and converted to float32 (F32, F16, or Q8_0 dequantized). Errors name the file, the field and what was
 * expected; they are user errors, so the CLI prints one line.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { decodeInto } from '../../io/dtypes.ts';
import {
  alignUp,
  GGML_TYPE_NAMES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  ggmlBytes,
  GgufValueType,
} from './gguf-format.ts';
import { dequantizeQ8_0 } from './q8-0.ts';
import { UserError } from '../../util/user-error.ts';

export class GgufFormatError extends UserError {}

export type GgufScalar = number | boolean | string;
export type GgufMetaValue = GgufScalar | GgufScalar[];

export interface GgufTensorInfo {
  name: string;
  /** Dimensions innermost first (ggml's ne). */
  dims: number[];
  type: GgmlType;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  /** Stored size in bytes. */
  bytes: number;
}

const PAGE = 1 << 20;

/** Sequential little-endian reads over a file descriptor, one page in memory at a time. */
class Cursor {
  pos = 0;
  private page = Buffer.alloc(PAGE);
  private pageStart = 0;
  private pageLen = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly path: string,
  ) {}

  private take(n: number, what: string): Buffer {
    if (this.pos + n > this.size)
      throw new GgufFormatError(
        `${this.path}: truncated GGUF file: ${what} at byte ${this.pos} needs ${n} bytes, the file has ${this.size}`,
      );
    if (this.pos < this.pageStart || this.pos + n > this.pageStart + this.pageLen) {
      if (n > this.page.length) this.page = Buffer.alloc(n);
      this.pageStart = this.pos;
      this.pageLen = readSync(this.fd, this.page, 0, Math.min(this.page.length, this.size - this.pos), this.pos);
    }
    const at = this.pos - this.pageStart;
    this.pos += n;
    return this.page.subarray(at, at + n);
  }
  u8(w: string): number {
    return this.take(1, w).readUInt8(0);
  }
  i8(w: string): number {
    return this.take(1, w).readInt8(0);
  }
  u16(w: string): number {
    return this.take(2, w).readUInt16LE(0);
  }
  i16(w: string): number {
    return this.take(2, w).readInt16LE(0);
  }
  u32(w: string): number {
    return this.take(4, w).readUInt32LE(0);
  }
  i32(w: string): number {
    return this.take(4, w).readInt32LE(0);
  }
  f32(w: string): number {
    return this.take(4, w).readFloatLE(0);
  }
  f64(w: string): number {
    return this.take(8, w).readDoubleLE(0);
  }
  u64(w: string): number {
    const v = this.take(8, w).readBigUInt64LE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new GgufFormatError(`${this.path}: ${w} at byte ${this.pos - 8} is ${v}, too large`);
    return Number(v);
  }
  i64(w: string): number {
    return Number(this.take(8, w).readBigInt64LE(0));
  }
  str(w: string): string {
    const n = this.u64(`${w} length`);
    return this.take(n, w).toString('utf8');
  }
}

function readScalar(c: Cursor, type: number, what: string, path: string): GgufScalar {
  switch (type) {
    case GgufValueType.UINT8:
      return c.u8(what);
    case GgufValueType.INT8:
      return c.i8(what);
    case GgufValueType.UINT16:
      return c.u16(what);
    case GgufValueType.INT16:
      return c.i16(what);
    case GgufValueType.UINT32:
      return c.u32(what);
    case GgufValueType.INT32:
      return c.i32(what);
    case GgufValueType.FLOAT32:
      return c.f32(what);
    case GgufValueType.FLOAT64:
      return c.f64(what);
    case GgufValueType.UINT64:
      return c.u64(what);
    case GgufValueType.INT64:
      return c.i64(what);
    case GgufValueType.BOOL:
      return c.u8(what) !== 0;
    case GgufValueType.STRING:
      return c.str(what);
    default:
      throw new GgufFormatError(`${path}: ${what} has value type ${type}, expected 0..12 (a GGUF scalar type)`);
  }
}

export class GgufReader {
  readonly version: number;
  readonly metadata = new Map<string, GgufMetaValue>();
  /** The stored value type of each metadata key (for arrays, ARRAY). */
  readonly metadataTypes = new Map<string, number>();
  readonly tensors = new Map<string, GgufTensorInfo>();
  readonly alignment: number;
  /** Absolute offset of the tensor data section. */
  readonly dataStart: number;
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    const size = fstatSync(fd).size;
    const c = new Cursor(fd, size, path);
    const fail = (msg: string): never => {
      throw new GgufFormatError(`${path}: ${msg}`);
    };
    if (size < 24) fail(`not a GGUF file (${size} bytes, shorter than the 24-byte header)`);
    const magic = c.u32('magic');
    if (magic !== GGUF_MAGIC)
      fail(
        `not a GGUF file (magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x${GGUF_MAGIC.toString(16)} "GGUF")`,
      );
    this.version = c.u32('version');
    if (this.version !== 2 && this.version !== GGUF_VERSION)
      fail(`GGUF version ${this.version} is not supported (expected 2 or ${GGUF_VERSION})`);
    const nTensors = c.u64('tensor count');
    const nKv = c.u64('metadata count');
    if (nTensors > size || nKv > size)
      fail(`header counts ${nTensors} tensors and ${nKv} metadata entries, impossible in ${size} bytes`);
    for (let i = 0; i < nKv; i++) {
      const key = c.str(`metadata key ${i}`);
      const type = c.u32(`type of "${key}"`);
      this.metadataTypes.set(key, type);
      if (type === GgufValueType.ARRAY) {
        const itemType = c.u32(`item type of "${key}"`);
        const n = c.u64(`length of "${key}"`);
        if (n > size) fail(`metadata "${key}" claims ${n} items, more than the file's ${size} bytes`);
        const items: GgufScalar[] = new Array(n);
        for (let j = 0; j < n; j++) items[j] = readScalar(c, itemType, `"${key}"[${j}]`, path);
        this.metadata.set(key, items);
      } else {
        this.metadata.set(key, readScalar(c, type, `"${key}"`, path));
      }
    }
    const align = this.metadata.get('general.alignment') ?? GGUF_DEFAULT_ALIGNMENT;
    if (typeof align !== 'number' || !Number.isInteger(align) || align <= 0)
      fail(`general.alignment is ${JSON.stringify(align)}, expected a positive integer`);
    this.alignment = align as number;
    const infos: { name: string; dims: number[]; type: number; rel: number }[] = [];
    for (let i = 0; i < nTensors; i++) {
      const name = c.str(`tensor ${i} name`);
      const nDims = c.u32(`dimension count of "${name}"`);
      if (nDims < 1 || nDims > 4) fail(`tensor "${name}" has ${nDims} dimensions, expected 1 to 4`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(c.u64(`dimension ${d} of "${name}"`));
      const type = c.u32(`type of "${name}"`);
      const rel = c.u64(`offset of "${name}"`);
      if (GGML_TYPE_NAMES[type] === undefined)
        fail(`tensor "${name}" has ggml type ${type}; llmforge reads F32 (0), F16 (1) and Q8_0 (8)`);
      if (rel % this.alignment !== 0)
        fail(`tensor "${name}" offset ${rel} is not a multiple of the alignment ${this.alignment}`);
      if (this.tensors.has(name) || infos.some((t) => t.name === name)) fail(`tensor "${name}" appears twice`);
      infos.push({ name, dims, type, rel });
    }
    this.dataStart = alignUp(c.pos, this.alignment);
    for (const t of infos) {
      const n = t.dims.reduce((a, b) => a * b, 1);
      const type = t.type as GgmlType;
      if (type === GgmlType.Q8_0 && t.dims[0]! % 32 !== 0)
        fail(`tensor "${t.name}" is Q8_0 with rows of ${t.dims[0]} values, expected a multiple of 32`);
      const bytes = ggmlBytes(type, n);
      const offset = this.dataStart + t.rel;
      if (offset + bytes > size)
        fail(
          `tensor "${t.name}" (${bytes} bytes at ${offset}) runs past the end of the file (${size} bytes); the file is truncated`,
        );
      this.tensors.set(t.name, { name: t.name, dims: t.dims, type, offset, bytes });
    }
  }

  static open(path: string): GgufReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new GgufFormatError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      return new GgufReader(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** A metadata value, or an error naming the key when it is missing. */
  get(key: string): GgufMetaValue {
    const v = this.metadata.get(key);
    if (v === undefined) throw new GgufFormatError(`${this.path}: metadata key "${key}" is missing`);
    return v;
  }

  /** The tensor's values as float32, in row-major order. */
  read(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new GgufFormatError(`${this.path}: tensor "${name}" is missing`);
    if (this.fd === null) throw new Error(`GgufReader: ${this.path} is closed`);
    const n = t.dims.reduce((a, b) => a * b, 1);
    const raw = Buffer.alloc(t.bytes);
    let got = 0;
    while (got < t.bytes) {
      const r = readSync(this.fd, raw, got, t.bytes - got, t.offset + got);
      if (r === 0) throw new GgufFormatError(`${this.path}: tensor "${name}" is truncated`);
      got += r;
    }
    const out = new Float32Array(n);
    if (t.type === GgmlType.Q8_0) dequantizeQ8_0(raw, n, out, 0);
    else decodeInto(t.type === GgmlType.F32 ? 'F32' : 'F16', raw, n, out, 0);
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
