/**
 * The safetensors header (Hugging Face): an 8-byte little-endian length, then a JSON object mapping each tensor
 * name to {dtype, shape, data_offsets: [begin, end]} relative to the data section, plus optional string metadata
 * under "__metadata__". This file parses and checks a header against the file size (one error naming the file,
 * the tensor and the problem; like the reference implementation, the byte ranges must tile the data section: no
 * overlap, which would load one tensor's bytes as another's, no gap and nothing after the last) and builds the header bytes for a list of tensors, data section aligned to 8 bytes.
 */
import { DTYPE_BYTES, isWeightDtype, type WeightDtype } from './dtypes.ts';
import { UserError } from '../util/user-error.ts';

export class SafetensorsError extends UserError {}

export function fail(source: string, message: string): never {
  throw new SafetensorsError(`${source}: ${message}`);
}

/** Where one tensor lives in a safetensors file. */
export interface TensorInfo {
  name: string;
  dtype: WeightDtype;
  shape: number[];
  /** Number of elements. */
  size: number;
  /** Absolute byte offset of the first element in the file. */
  start: number;
  /** Byte length (size * element width). */
  byteLength: number;
}

export interface SafetensorsHeader {
  /** Tensors in header order. */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Absolute offset of the data section (8 + header length). */
  dataStart: number;
}

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || first8.length < 8) fail(source, `file is ${fileSize} bytes, too short for a safetensors header`);
  const len = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (len > fileSize - 8) fail(source, `header length ${len} exceeds the file size ${fileSize}`);
  return len;
}

/** Parses the JSON header bytes of a file of `fileSize` bytes. */
export function parseHeader(json: Uint8Array, fileSize: number, source: string): SafetensorsHeader {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;
  } catch (e) {
    fail(source, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail(source, 'header is not a JSON object');
  const dataStart = 8 + json.length;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (
      typeof info !== 'object' ||
      info === null ||
      typeof info.dtype !== 'string' ||
      !Array.isArray(info.shape) ||
      !Array.isArray(info.data_offsets) ||
      info.data_offsets.length !== 2
    ) {
      fail(source, `tensor "${name}": expected {dtype, shape, data_offsets: [begin, end]}`);
    }
    if (!isWeightDtype(info.dtype))
      fail(source, `tensor "${name}": dtype ${info.dtype} is not supported (expected F32, F16 or BF16)`);
    const shape = info.shape as unknown[];
    if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
      fail(source, `tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    const [begin, end] = info.data_offsets as [number, number];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = DTYPE_BYTES[info.dtype];
    if (
      !Number.isInteger(begin) ||
      !Number.isInteger(end) ||
      begin < 0 ||
      end - begin !== size * width ||
      dataStart + end > fileSize
    ) {
      fail(
        source,
        `tensor "${name}": data_offsets [${begin}, ${end}] do not hold ${size} ${info.dtype} values within the file (${fileSize} bytes)`,
      );
    }
    tensors.set(name, {
      name,
      dtype: info.dtype,
      shape: shape as number[],
      size,
      start: dataStart + begin,
      byteLength: end - begin,
    });
  }
  checkLayout(tensors, fileSize - dataStart, dataStart, source);
  return { tensors, metadata, dataStart };
}

/**
 * The tensors' byte ranges, in offset order, must tile the data section exactly, as the reference implementation
 * requires: no two overlap (a tensor would read another's bytes), no gap between them and none after the last.
 */
function checkLayout(tensors: Map<string, TensorInfo>, dataLength: number, dataStart: number, source: string): void {
  const sorted = [...tensors.values()].sort((a, b) => a.start - b.start || a.byteLength - b.byteLength);
  const range = (t: TensorInfo): string =>
    `"${t.name}" [${t.start - dataStart}, ${t.start - dataStart + t.byteLength}]`;
  let end = 0;
  let prev: TensorInfo | undefined;
  for (const t of sorted) {
    const begin = t.start - dataStart;
    if (begin < end)
      fail(source, `tensors ${range(prev!)} and ${range(t)} overlap (data_offsets must not share bytes)`);
    if (begin > end)
      fail(
        source,
        prev
          ? `${begin - end} unused bytes between tensors ${range(prev)} and ${range(t)} (data_offsets must be contiguous)`
          : `${begin} unused bytes before the first tensor ${range(t)} (data_offsets must start at 0)`,
      );
    end = begin + t.byteLength;
    prev = t;
  }
  if (end !== dataLength)
    fail(
      source,
      `${dataLength - end} bytes after ${prev ? `the last tensor ${range(prev)}` : 'the header'} belong to no tensor (the data section must end with the last tensor)`,
    );
}

/** A tensor to write: its shape and dtype (the data is supplied separately). */
export interface TensorLayout {
  name: string;
  dtype: WeightDtype;
  shape: readonly number[];
}

/**
 * The header bytes (length prefix included) for tensors stored back to back in the given order, and each one's
 * byte offset relative to the data section. The JSON is padded with spaces so the data starts 8-byte aligned.
 */
export function buildHeader(
  layouts: readonly TensorLayout[],
  metadata?: Record<string, string>,
): { bytes: Uint8Array; offsets: number[]; dataLength: number } {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const offsets: number[] = [];
  let offset = 0;
  for (const t of layouts) {
    if (t.name === '__metadata__') throw new RangeError('safetensors: a tensor cannot be named "__metadata__"');
    if (t.name in header) throw new RangeError(`safetensors: tensor "${t.name}" appears twice`);
    const n = DTYPE_BYTES[t.dtype] * t.shape.reduce((a, b) => a * b, 1);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + n] };
    offsets.push(offset);
    offset += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  const bytes = new Uint8Array(8 + json.length + pad);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length + pad), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length);
  return { bytes, offsets, dataLength: offset };
}
