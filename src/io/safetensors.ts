/**
 * The safetensors format (Hugging Face) as llmforge uses it: `readSafetensors` loads every tensor of a file as
 * float32 through the streaming `SafetensorsReader` (header first, then one tensor's byte range at a time, never
 * the whole file in memory), `parseSafetensors` does the same for bytes already in memory, `serializeSafetensors`
 * builds an F32 file in memory (small checkpoints and fixtures) and `writeSafetensors` streams one to disk.
 * Supported dtypes are F32, F16 and BF16 (converted to float32 on read); malformed files get an error naming the
 * file, the tensor and the problem.
 */
import { decodeInto, type WeightDtype } from './dtypes.ts';
import { buildHeader, headerLength, parseHeader } from './safetensors-header.ts';
import { SafetensorsReader } from './safetensors-reader.ts';

export { SafetensorsReader, withSafetensors, READ_CHUNK_BYTES } from './safetensors-reader.ts';
export { writeSafetensors, type TensorToWrite } from './safetensors-writer.ts';
export { SafetensorsError, type TensorInfo } from './safetensors-header.ts';
export type { WeightDtype } from './dtypes.ts';

export interface SafetensorsEntry {
  dtype: WeightDtype;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Parses safetensors bytes held in memory; `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsFile {
  const len = headerLength(bytes, bytes.length, source);
  const header = parseHeader(bytes.subarray(8, 8 + len), bytes.length, source);
  const tensors = new Map<string, SafetensorsEntry>();
  for (const t of header.tensors.values()) {
    const data = new Float32Array(t.size);
    decodeInto(t.dtype, bytes.subarray(t.start, t.start + t.byteLength), t.size, data, 0);
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/** Reads every tensor of the file at `path` as float32, one tensor's byte range at a time. */
export function readSafetensors(path: string): SafetensorsFile {
  const reader = SafetensorsReader.open(path);
  try {
    const tensors = new Map<string, SafetensorsEntry>();
    for (const t of reader.tensors.values())
      tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: reader.read(t.name) });
    return { tensors, metadata: reader.metadata };
  } finally {
    reader.close();
  }
}

/** Serializes float32 tensors (in the given order) with optional string metadata, in memory. */
export function serializeSafetensors(
  tensors: [string, { shape: readonly number[]; data: ArrayLike<number> }][],
  metadata?: Record<string, string>,
): Uint8Array {
  const {
    bytes: head,
    offsets,
    dataLength,
  } = buildHeader(
    tensors.map(([name, t]) => ({ name, shape: t.shape, dtype: 'F32' as const })),
    metadata,
  );
  const out = new Uint8Array(head.length + dataLength);
  out.set(head, 0);
  const view = new DataView(out.buffer);
  tensors.forEach(([name, t], k) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new RangeError(
        `serializeSafetensors: tensor "${name}" has shape [${t.shape.join(', ')}] (${n} elements) but ${t.data.length} values`,
      );
    let at = head.length + offsets[k]!;
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i]!, true);
  });
  return out;
}
