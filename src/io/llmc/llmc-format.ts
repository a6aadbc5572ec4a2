/**
 * The binary layouts of karpathy/llm.c, shared by its checkpoint, tokenizer and token-shard readers and writers:
 * every file opens with a header of 256 little-endian int32 (1024 bytes) whose first two entries are a magic
 * number and a version. Model checkpoints: magic 20240326, version 3 (fp32) or 5 (bf16), then maxT, V, L, NH, C
 * and the padded vocabulary Vp. Token shards: magic 20240520, version 1, the token count, then uint16 tokens.
 * Tokenizers: magic 20240328, version 2, V, the end-of-text id, then per token a length byte and its bytes.
 * Only the byte layouts live in io/llmc; what turns them into models, tokenizers and datasets is in export/llmc.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from '../../util/user-error.ts';

export const LLMC_HEADER_INTS = 256;
export const LLMC_HEADER_BYTES = LLMC_HEADER_INTS * 4;
export const LLMC_MODEL_MAGIC = 20240326;
export const LLMC_MODEL_VERSION_FP32 = 3;
export const LLMC_MODEL_VERSION_BF16 = 5;
export const LLMC_SHARD_MAGIC = 20240520;
export const LLMC_SHARD_VERSION = 1;
export const LLMC_TOKENIZER_MAGIC = 20240328;
export const LLMC_TOKENIZER_VERSION = 2;

export class LlmcFormatError extends UserError {}

/** A fresh header with magic and version set (the rest zero). */
export function newHeader(magic: number, version: number): Int32Array {
  const h = new Int32Array(LLMC_HEADER_INTS);
  h[0] = magic;
  h[1] = version;
  return h;
}

/** The header as little-endian bytes. */
export function headerBytes(h: Int32Array): Buffer {
  const b = Buffer.alloc(LLMC_HEADER_BYTES);
  for (let i = 0; i < LLMC_HEADER_INTS; i++) b.writeInt32LE(h[i]!, 4 * i);
  return b;
}

/**
 * Opens `path` and reads its header, checking the magic (`what` names the kind of file in the error) and that the
 * version is one of `versions`. Returns the open descriptor (the caller closes it), the header and the file size.
 */
export function openWithHeader(
  path: string,
  magic: number,
  versions: readonly number[],
  what: string,
  hint: string,
): { fd: number; header: Int32Array; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new LlmcFormatError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < LLMC_HEADER_BYTES)
      throw new LlmcFormatError(
        `${path}: not ${what} (${size} bytes, shorter than the ${LLMC_HEADER_BYTES}-byte header)`,
      );
    const b = Buffer.alloc(LLMC_HEADER_BYTES);
    readSync(fd, b, 0, LLMC_HEADER_BYTES, 0);
    const header = new Int32Array(LLMC_HEADER_INTS);
    for (let i = 0; i < LLMC_HEADER_INTS; i++) header[i] = b.readInt32LE(4 * i);
    if (header[0] !== magic)
      throw new LlmcFormatError(`${path}: not ${what} (magic ${header[0]}, expected ${magic}); ${hint}`);
    if (!versions.includes(header[1]!))
      throw new LlmcFormatError(
        `${path}: ${what} version ${header[1]} is not supported (expected ${versions.join(' or ')})`,
      );
    return { fd, header, size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Reads exactly `length` bytes at `position` into a new buffer. */
export function readExact(fd: number, length: number, position: number, path: string): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, b, got, length - got, position + got);
    if (n === 0) throw new LlmcFormatError(`${path}: truncated at byte ${position + got}`);
    got += n;
  }
  return b;
}

/** Writes all of `bytes` at the descriptor's current position. */
