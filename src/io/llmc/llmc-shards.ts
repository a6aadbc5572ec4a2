/**
 * llm.c token shards (what its dev/data scripts write and its DataLoader reads): a 1024-byte header (magic
 * 20240520, version 1, token count) and the tokens as uint16. `writeLlmcShard` writes one from token ids;
 * `readLlmcShard` reads one back with its header checked against the file size. Converting a whole prepared
 * dataset is export/llmc/llmc-dataset.ts.
 */
import { closeSync } from 'node:fs';
import {
  headerBytes,
  LLMC_HEADER_BYTES,
  LLMC_SHARD_MAGIC,
  LLMC_SHARD_VERSION,
  LlmcFormatError,
  newHeader,
  openWithHeader,
  readExact,
} from './llmc-format.ts';
import { writeAll, writeFileAtomicWith } from '../../util/atomic.ts';

/** llm.c's DataLoader counts tokens in an int32. */
export const MAX_SHARD_TOKENS = 2 ** 31 - 1;

/** Writes `tokens` (every id < 65536) as one llm.c shard at `path`. */
export function writeLlmcShard(path: string, tokens: ArrayLike<number>): void {
  if (tokens.length > MAX_SHARD_TOKENS)
    throw new RangeError(`writeLlmcShard: ${tokens.length} tokens exceed llm.c's ${MAX_SHARD_TOKENS} per shard`);
  const h = newHeader(LLMC_SHARD_MAGIC, LLMC_SHARD_VERSION);
  h[2] = tokens.length;
  const body = new Uint16Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i]!;
    if (!(Number.isInteger(id) && id >= 0 && id < 65536))
      throw new RangeError(`writeLlmcShard: token ${i} is ${id}; llm.c shards hold uint16 ids (0..65535)`);
    body[i] = id;
  }
  writeFileAtomicWith(path, (fd) => {
    writeAll(fd, headerBytes(h));
    writeAll(fd, new Uint8Array(body.buffer, 0, body.byteLength));
  });
}

/** The tokens of an llm.c shard. */
export function readLlmcShard(path: string): Uint16Array {
  const { fd, header, size } = openWithHeader(
    path,
    LLMC_SHARD_MAGIC,
    [LLMC_SHARD_VERSION],
    'an llm.c token shard',
    "expected a .bin written by llm.c's data scripts or `llmforge data export-llmc`",
  );
  try {
    const n = header[2]!;
    const expected = LLMC_HEADER_BYTES + 2 * n;
    if (n < 0 || size !== expected)
      throw new LlmcFormatError(
        `${path}: ${size} bytes, but the header counts ${n} tokens (${expected} bytes with the header); the shard is truncated or corrupt`,
      );
    const raw = readExact(fd, 2 * n, LLMC_HEADER_BYTES, path);
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = raw.readUInt16LE(2 * i);
    return out;
  } finally {
    closeSync(fd);
  }
}
