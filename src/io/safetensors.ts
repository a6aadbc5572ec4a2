/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each
 * tensor name to {dtype, shape, data_offsets} (plus optional string metadata under "__metadata__"), then the raw
 * little-endian bytes. This file reads F32/F16/BF16 tensors into Float32Arrays and writes F32 files; malformed
 * files get an error naming the file, the tensor and the problem.
 */
import { readFileSync } from 'node:fs';

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

class SafetensorsError extends Error {
  readonly userError = true;
}

function fail(source: string, message: string): never {
  throw new SafetensorsError(`${source}: ${message}`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Parses safetensors bytes; `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  if (bytes.length < 8) fail(source, `file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) fail(source, `header length ${headerLen} exceeds the file size ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    fail(source, `header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info.dtype !== 'string' || !Array.isArray(info.shape) || !Array.isArray(info.data_offsets) || info.data_offsets.length !== 2) {
      fail(source, `tensor "${name}": expected {dtype, shape, data_offsets: [begin, end]}`);
    }
    const shape = info.shape as number[];
    const [begin, end] = info.data_offsets as [number, number];
    const n = shape.reduce((a, b) => a * b, 1);
    const width = { F32: 4, F16: 2, BF16: 2 }[info.dtype];
    if (width === undefined) fail(source, `tensor "${name}": dtype ${info.dtype} is not supported (expected F32, F16 or BF16)`);
    if (end - begin !== n * width || dataStart + end > bytes.length || begin < 0) {
      fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] do not hold ${n} ${info.dtype} values within the file`);
    }
    const data = new Float32Array(n);
    const at = dataStart + begin;
    if (info.dtype === 'F32') {
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(at + 4 * i, true);
    } else if (info.dtype === 'F16') {
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(at + 2 * i, true));
    } else {
      const u32 = new Uint32Array(data.buffer);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(at + 2 * i, true) << 16;
    }
    tensors.set(name, { dtype: info.dtype, shape, data });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    fail(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

/** Serializes float32 tensors (in the given order) with optional string metadata. */
export function serializeSafetensors(tensors: [string, { shape: readonly number[]; data: ArrayLike<number> }][], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * t.data.length] };
    offset += 4 * t.data.length;
  }
  const json = JSON.stringify(header);
  const pad = (8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8; // align the data section to 8 bytes
  const headerBytes = new TextEncoder().encode(json + ' '.repeat(pad));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of tensors) {
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i]!, true);
  }
  return out;
}
