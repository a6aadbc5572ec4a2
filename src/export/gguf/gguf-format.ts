/**
 * The GGUF container as ggml and llama.cpp define it (version 3, little-endian): the magic "GGUF", the version,
 * tensor and metadata counts (uint64), typed key/value metadata, tensor infos (name, dimensions innermost first,
 * ggml type, offset into the data section) and the tensor data, each tensor starting at a multiple of the
 * alignment (`general.alignment`, default 32). This file holds the constants, the value and tensor types and the
 * byte sizes of the tensor types llmforge writes (F32, F16, Q8_0), shared by the writer and the reader.
 */

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

/** The scalar value types (everything but ARRAY). */
export type GgufScalarType = Exclude<GgufValueType, 9>;

/** One metadata entry to write: a scalar (`type`) or an array of scalars (`type` ARRAY, `itemType`). */
export type GgufKv =
  | { key: string; type: GgufScalarType; value: number | bigint | boolean | string }
  | { key: string; type: 9; itemType: GgufScalarType; value: readonly (number | bigint | boolean | string)[] };

/** Tensor element types (ggml_type) that llmforge reads and writes. */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];
export type GgmlTypeName = keyof typeof GgmlType;

export const GGML_TYPE_NAMES: Readonly<Record<number, GgmlTypeName>> = { 0: 'F32', 1: 'F16', 8: 'Q8_0' };

/** Q8_0: blocks of 32 values stored as one fp16 scale and 32 int8 quants (34 bytes). */
export const Q8_0_BLOCK = 32;
export const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

/** general.file_type for a file whose 2-D weights are mostly of this type (llama_ftype). */
export const FILE_TYPE: Readonly<Record<GgmlTypeName, number>> = { F32: 0, F16: 1, Q8_0: 7 };

/** Bytes taken by `n` elements of `type` (n a multiple of the block size for Q8_0). */
export function ggmlBytes(type: GgmlType, n: number): number {
  if (type === GgmlType.F32) return 4 * n;
  if (type === GgmlType.F16) return 2 * n;
  if (n % Q8_0_BLOCK !== 0)
    throw new RangeError(`ggmlBytes: Q8_0 needs a multiple of ${Q8_0_BLOCK} elements, received ${n}`);
  return (n / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
}

/** `n` rounded up to a multiple of `align`. */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}
