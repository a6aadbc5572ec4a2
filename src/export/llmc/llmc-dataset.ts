/**
 * Converting a dataset prepared by `llmforge data prepare` (our own shard format, src/data/shards.ts) into llm.c
 * token shards (io/llmc/llmc-shards.ts): shard by shard, streaming in chunks, into `<prefix>_train_000000.bin`,
 * `<prefix>_val_000000.bin`, ...; what `llmforge data export-llmc` runs.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { readMeta, type Split } from '../../data/meta.ts';
import { HEADER_BYTES, readShardHeader } from '../../data/shards.ts';
import {
  headerBytes,
  LLMC_SHARD_MAGIC,
  LLMC_SHARD_VERSION,
  LlmcFormatError,
  newHeader,
  readExact,
} from '../../io/llmc/llmc-format.ts';
import { MAX_SHARD_TOKENS } from '../../io/llmc/llmc-shards.ts';
import { Progress } from '../../util/progress.ts';
import { writeAll, writeFileAtomicWith } from '../../util/atomic.ts';

const CHUNK_TOKENS = 1 << 20;

export interface LlmcExportSummary {
  files: string[];
  tokens: Record<Split, number>;
}

/**
 * Converts the prepared dataset in `dataDir` into llm.c shards in `outDir`, one llm.c shard per llmforge shard.
 * The vocabulary must fit uint16 (at most 65536 ids).
 */
export function exportLlmcShards(
  dataDir: string,
  outDir: string,
  opts: { prefix?: string; progress?: boolean } = {},
): LlmcExportSummary {
  const meta = readMeta(dataDir);
  if (meta.vocabSize > 65536)
    throw new LlmcFormatError(
      `${join(dataDir, 'meta.json')}: vocabulary ${meta.vocabSize} does not fit llm.c's uint16 token shards (at most 65536)`,
    );
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
        throw new LlmcFormatError(
          `${src}: cannot open shard (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the dataset is incomplete`,
        );
      }
      const outName = `${prefix}_${split}_${String(index).padStart(6, '0')}.bin`;
      try {
        const h = readShardHeader(fd, src);
        if (h.tokens > MAX_SHARD_TOKENS)
          throw new LlmcFormatError(
            `${src}: ${h.tokens} tokens exceed llm.c's ${MAX_SHARD_TOKENS} per shard; prepare the data with smaller shards`,
          );
        const width = h.dtype === 'uint16' ? 2 : 4;
        writeFileAtomicWith(join(outDir, outName), (out) => {
          const header = newHeader(LLMC_SHARD_MAGIC, LLMC_SHARD_VERSION);
          header[2] = h.tokens;
          writeAll(out, headerBytes(header));
          for (let at = 0; at < h.tokens; at += CHUNK_TOKENS) {
            const n = Math.min(CHUNK_TOKENS, h.tokens - at);
            const raw = readExact(fd, n * width, HEADER_BYTES + at * width, src);
            const body = Buffer.alloc(2 * n);
            for (let i = 0; i < n; i++)
              body.writeUInt16LE(width === 2 ? raw.readUInt16LE(2 * i) : raw.readUInt32LE(4 * i), 2 * i);
            writeAll(out, body);
            done += n;
            progress.update(done);
          }
        });
        files.push(outName);
        tokens[split] += h.tokens;
      } finally {
        closeSync(fd);
      }
    });
  }
  progress.finish(done);
  return { files, tokens };
}
