/**
 * Binary token shards. A shard is a 32-byte little-endian header followed by the tokens:
 *   bytes 0-7   magic "LLMFTOKS"
 *   bytes 8-11  format version (1)
 *   bytes 12-15 bytes per token: 2 (uint16) or 4 (uint32)
 *   bytes 16-23 token count (uint64)
 *   bytes 24-27 vocabulary size
 *   bytes 28-31 reserved (0)
 * `ShardWriter` streams tokens into `<dir>/<split>-00000.bin`, ... of at most `shardTokens` tokens each; every shard
 * is written under a temporary name, flushed, its header completed, and then renamed into place.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataError } from './errors.ts';

export const SHARD_MAGIC = 'LLMFTOKS';
export const SHARD_VERSION = 1;
export const HEADER_BYTES = 32;

export type TokenDtype = 'uint16' | 'uint32';

/** uint16 when every id fits (vocabSize <= 65536), else uint32. */
export function dtypeFor(vocabSize: number): TokenDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

export function dtypeBytes(dtype: TokenDtype): 2 | 4 {
  return dtype === 'uint16' ? 2 : 4;
}

export function encodeHeader(dtype: TokenDtype, tokens: number, vocabSize: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write(SHARD_MAGIC, 0, 'latin1');
  h.writeUInt32LE(SHARD_VERSION, 8);
  h.writeUInt32LE(dtypeBytes(dtype), 12);
  h.writeBigUInt64LE(BigInt(tokens), 16);
  h.writeUInt32LE(vocabSize, 24);
  return h;
}

export interface ShardHeader {
  dtype: TokenDtype;
  tokens: number;
  vocabSize: number;
}

/** Reads and checks a shard's header against its size; an error naming the file when anything is off. */
export function readShardHeader(fd: number, file: string): ShardHeader {
  const size = fstatSync(fd).size;
  const h = Buffer.alloc(HEADER_BYTES);
  const got = size >= HEADER_BYTES ? readSync(fd, h, 0, HEADER_BYTES, 0) : 0;
  if (got < HEADER_BYTES)
    throw new DataError(`${file}: not a token shard (${size} bytes, shorter than the ${HEADER_BYTES}-byte header)`);
  const magic = h.toString('latin1', 0, 8);
  if (magic !== SHARD_MAGIC)
    throw new DataError(`${file}: not a token shard (magic ${JSON.stringify(magic)}, expected "${SHARD_MAGIC}")`);
  const version = h.readUInt32LE(8);
  if (version !== SHARD_VERSION)
    throw new DataError(`${file}: shard format version ${version} is not supported (expected ${SHARD_VERSION})`);
  const width = h.readUInt32LE(12);
  if (width !== 2 && width !== 4) throw new DataError(`${file}: bad token width ${width} bytes (expected 2 or 4)`);
  const tokens = Number(h.readBigUInt64LE(16));
  const expected = HEADER_BYTES + tokens * width;
  if (size !== expected)
    throw new DataError(
      `${file}: size ${size} bytes does not match its header (${tokens} tokens x ${width} bytes + ${HEADER_BYTES} = ${expected}); the shard is truncated or corrupt, prepare the data again`,
    );
  return { dtype: width === 2 ? 'uint16' : 'uint32', tokens, vocabSize: h.readUInt32LE(24) };
}

export function shardName(split: string, index: number): string {
  return `${split}-${String(index).padStart(5, '0')}.bin`;
}

/** Streams tokens into numbered shard files. */
export class ShardWriter {
  readonly files: string[] = [];
  private readonly bytes: 2 | 4;
  private readonly buf: Uint16Array | Uint32Array;
  private fill = 0;
  private fd: number | null = null;
  private tmp = '';
  private inShard = 0;
  /** Write position in the open shard (positional writes; the header is rewritten at 0 on close). */
  private pos = 0;
  total = 0;

  constructor(
    private readonly dir: string,
    private readonly split: string,
    private readonly vocabSize: number,
    private readonly shardTokens = 100_000_000,
    private readonly dtype: TokenDtype = dtypeFor(vocabSize),
  ) {
    if (!Number.isInteger(shardTokens) || shardTokens < 1)
      throw new RangeError(`ShardWriter: shardTokens must be a positive integer, received ${shardTokens}`);
    if (dtype === 'uint16' && vocabSize > 65536)
      throw new RangeError(`ShardWriter: vocabulary ${vocabSize} does not fit uint16`);
    mkdirSync(dir, { recursive: true });
    this.bytes = dtypeBytes(dtype);
    const n = Math.min(1 << 20, shardTokens);
    this.buf = dtype === 'uint16' ? new Uint16Array(n) : new Uint32Array(n);
  }

  private open(): void {
    const name = shardName(this.split, this.files.length);
    this.tmp = join(this.dir, `.${name}.tmp-${process.pid}`);
    this.fd = openSync(this.tmp, 'w');
    writeSync(this.fd, Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    this.pos = HEADER_BYTES;
    this.inShard = 0;
  }

  private flushBuffer(): void {
    if (this.fill === 0 || this.fd === null) return;
    const view = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.fill * this.bytes);
    let off = 0;
    while (off < view.length) off += writeSync(this.fd, view, off, view.length - off, this.pos + off);
    this.pos += view.length;
    this.fill = 0;
  }

  private close(): void {
    if (this.fd === null) return;
    this.flushBuffer();
    writeSync(this.fd, encodeHeader(this.dtype, this.inShard, this.vocabSize), 0, HEADER_BYTES, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    const final = join(this.dir, shardName(this.split, this.files.length));
    renameSync(this.tmp, final);
    this.files.push(basename(final));
  }

  /** Appends tokens (ids must be < vocabSize). */
  write(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < this.vocabSize))
        throw new RangeError(`ShardWriter: token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      if (this.fd === null) this.open();
      this.buf[this.fill++] = id;
      this.inShard++;
      this.total++;
      if (this.fill === this.buf.length) this.flushBuffer();
      if (this.inShard === this.shardTokens) this.close();
    }
  }

  /** Completes the last shard; returns the shard file names. */
  finish(): string[] {
    this.close();
    return this.files;
  }

  /** Removes a half-written shard (after an error). */
  abort(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
      rmSync(this.tmp, { force: true });
    }
  }
}
