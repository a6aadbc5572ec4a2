/**
 * llm.c token shards (what its dev/data scripts write and its DataLoader reads): a 1024-byte header (magic
 * 20240520, version 1, token count) and the tokens as uint16. `exportLlmcShards` converts a dataset prepared by
 * `llmforge data prepare` (our own shard format, src/data/shards.ts) shard by shard, streaming in chunks, into
 * `<prefix>_train_000000.bin`, `<prefix>_val_000000.bin`, ...; `readLlmcShard` reads one back with its header
 * checked against the file size.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readMeta, type Split } from '../../data/meta.ts';
import { HEADER_BYTES, readShardHeader } from '../../data/shards.ts';
import { Progress } from '../../util/progress.ts';
import { headerBytes, LLMC_HEADER_BYTES, LLMC_SHARD_MAGIC, LLMC_SHARD_VERSION, LlmcFormatError, newHeader, openWithHeader, readExact } from './llmc-format.ts';

/** llm.c's DataLoader counts tokens in an int32. */
const MAX_SHARD_TOKENS = 2 ** 31 - 1;
const CHUNK_TOKENS = 1 << 20;

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes `tokens` (every id < 65536) as one llm.c shard at `path`. */
export function writeLlmcShard(path: string, tokens: ArrayLike<number>): void {
  if (tokens.length > MAX_SHARD_TOKENS) throw new RangeError(`writeLlmcShard: ${tokens.length} tokens exceed llm.c's ${MAX_SHARD_TOKENS} per shard`);
  const h = newHeader(LLMC_SHARD_MAGIC, LLMC_SHARD_VERSION);
  h[2] = tokens.length;
  const body = new Uint16Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i]!;
    if (!(Number.isInteger(id) && id >= 0 && id < 65536)) throw new RangeError(`writeLlmcShard: token ${i} is ${id}; llm.c shards hold uint16 ids (0..65535)`);
    body[i] = id;
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, headerBytes(h));
    writeAll(fd, new Uint8Array(body.buffer, 0, body.byteLength));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The tokens of an llm.c shard. */
export function readLlmcShard(path: string): Uint16Array {
  const { fd, header, size } = openWithHeader(path, LLMC_SHARD_MAGIC, [LLMC_SHARD_VERSION], 'an llm.c token shard', 'expected a .bin written by llm.c\'s data scripts or `llmforge data export-llmc`');
  try {
    const n = header[2]!;
    const expected = LLMC_HEADER_BYTES + 2 * n;
    if (n < 0 || size !== expected) throw new LlmcFormatError(`${path}: ${size} bytes, but the header counts ${n} tokens (${expected} bytes with the header); the shard is truncated or corrupt`);
    const raw = readExact(fd, 2 * n, LLMC_HEADER_BYTES, path);
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = raw.readUInt16LE(2 * i);
    return out;
  } finally {
    closeSync(fd);
  }
}

export interface LlmcExportSummary {
  files: string[];
  tokens: Record<Split, number>;
}

/**
 * Converts the prepared dataset in `dataDir` into llm.c shards in `outDir`, one llm.c shard per llmforge shard.
 * The vocabulary must fit uint16 (at most 65536 ids).
 */
export function exportLlmcShards(dataDir: string, outDir: string, opts: { prefix?: string; progress?: boolean } = {}): LlmcExportSummary {
  const meta = readMeta(dataDir);
  if (meta.vocabSize > 65536) throw new LlmcFormatError(`${join(dataDir, 'meta.json')}: vocabulary ${meta.vocabSize} does not fit llm.c's uint16 token shards (at most 65536)`);
  const prefix = opts.prefix ?? 'llmforge';
  const total = meta.splits.train.tokens + meta.splits.val.tokens;
  const progress = new Progress({ label: 'export-llmc', total, unit: 'tokens', silent: !(opts.progress ?? false) });
  const files: string[] = [];
  const tokens: Record<Split, number> = { train: 0, val: 0 };
  let done = 0;
  mkdirSync(outDir, { recursive: true });
  for (const split of ['train', 'val'] as const) {
    meta.splits[split].shards.forEach((name, index) => {
      const src = join(dataDir, name);
      let fd: number;
      try {
        fd = openSync(src, 'r');
      } catch (e) {
        throw new LlmcFormatError(`${src}: cannot open shard (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the dataset is incomplete`);
      }
      const outName = `${prefix}_${split}_${String(index).padStart(6, '0')}.bin`;
      const dst = join(outDir, outName);
      const tmp = join(outDir, `.${outName}.tmp-${process.pid}`);
      let out: number | null = null;
      try {
        const h = readShardHeader(fd, src);
        if (h.tokens > MAX_SHARD_TOKENS) throw new LlmcFormatError(`${src}: ${h.tokens} tokens exceed llm.c's ${MAX_SHARD_TOKENS} per shard; prepare the data with smaller shards`);
        const width = h.dtype === 'uint16' ? 2 : 4;
        out = openSync(tmp, 'w');
        const header = newHeader(LLMC_SHARD_MAGIC, LLMC_SHARD_VERSION);
        header[2] = h.tokens;
        writeAll(out, headerBytes(header));
        for (let at = 0; at < h.tokens; at += CHUNK_TOKENS) {
          const n = Math.min(CHUNK_TOKENS, h.tokens - at);
          const raw = readExact(fd, n * width, HEADER_BYTES + at * width, src);
          const body = Buffer.alloc(2 * n);
          for (let i = 0; i < n; i++) body.writeUInt16LE(width === 2 ? raw.readUInt16LE(2 * i) : raw.readUInt32LE(4 * i), 2 * i);
          writeAll(out, body);
          done += n;
          progress.update(done);
        }
        fsyncSync(out);
        closeSync(out);
        out = null;
        renameSync(tmp, dst);
        files.push(outName);
        tokens[split] += h.tokens;
      } catch (e) {
        if (out !== null) closeSync(out);
        rmSync(tmp, { force: true });
        throw e;
      } finally {
        closeSync(fd);
      }
    });
  }
  progress.finish(done);
  return { files, tokens };
}
