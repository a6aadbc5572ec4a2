/**
 * The training data loader. A `TokenDataset` is one split's token stream: either shards on disk, read window by
 * window with positional reads (memory stays bounded whatever the dataset size; nothing is memory-mapped, Node has
 * no mmap), or tokens held in memory (tests, the char-level benchmark). `sampleBatch` draws B random windows of
 * T + 1 tokens using only `rng.int`, so the trainer's saved Rng state is the data position; `sequential` walks
 * non-overlapping windows for a full validation pass.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../tensor/random.ts';
import { DataError } from './errors.ts';
import { readMeta, type Split } from './meta.ts';
import { HEADER_BYTES, readShardHeader } from './shards.ts';

interface ShardFile {
  file: string;
  fd: number;
  start: number;
  tokens: number;
  width: 2 | 4;
}

export interface Batch {
  /** (B, T) input ids, row-major. */
  ids: Int32Array;
  /** (B, T) next-token targets: targets[b, t] = ids[b, t + 1] within the window. */
  targets: Int32Array;
}

export class TokenDataset {
  private readonly memory: Int32Array | null;
  private readonly shards: ShardFile[];
  private scratch = Buffer.alloc(0);

  private constructor(
    readonly numTokens: number,
    readonly vocabSize: number,
    readonly bytesPerToken: number,
    memory: Int32Array | null,
    shards: ShardFile[],
    /** Where the tokens come from, for messages. */
    readonly source: string,
  ) {
    this.memory = memory;
    this.shards = shards;
  }

  /** Opens one split of a prepared dataset directory (checks every shard's header and size). */
  static open(dir: string, split: Split): TokenDataset {
    const meta = readMeta(dir);
    const s = meta.splits[split];
    const shards: ShardFile[] = [];
    let start = 0;
    try {
      for (const name of s.shards) {
        const file = join(dir, name);
        let fd: number;
        try {
          fd = openSync(file, 'r');
        } catch (e) {
          throw new DataError(
            `${file}: cannot open shard (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the dataset is incomplete, prepare it again`,
          );
        }
        const sf: ShardFile = { file, fd, start, tokens: 0, width: 2 };
        shards.push(sf);
        const h = readShardHeader(fd, file);
        if (h.vocabSize !== meta.vocabSize)
          throw new DataError(`${file}: vocabulary ${h.vocabSize} does not match meta.json (${meta.vocabSize})`);
        sf.tokens = h.tokens;
        sf.width = h.dtype === 'uint16' ? 2 : 4;
        start += h.tokens;
      }
    } catch (e) {
      for (const sf of shards) closeSync(sf.fd);
      throw e;
    }
    if (start !== s.tokens) {
      for (const sf of shards) closeSync(sf.fd);
      throw new DataError(
        `${join(dir, 'meta.json')}: ${split} shards hold ${start} tokens but meta.json records ${s.tokens}`,
      );
    }
    const bpt = s.tokens > 0 ? s.bytes / s.tokens : 0;
    return new TokenDataset(start, meta.vocabSize, bpt, null, shards, `${dir} (${split})`);
  }

  /** An in-memory dataset (ids must lie in [0, vocabSize)). `bytesPerToken` defaults to 1 (characters ~ bytes). */
  static fromTokens(tokens: ArrayLike<number>, vocabSize: number, bytesPerToken = 1): TokenDataset {
    const mem = Int32Array.from(tokens as ArrayLike<number>);
    for (let i = 0; i < mem.length; i++) {
      const id = mem[i]!;
      if (id < 0 || id >= vocabSize || id !== tokens[i])
        throw new RangeError(
          `TokenDataset.fromTokens: token ${tokens[i]} at position ${i} is outside [0, ${vocabSize})`,
        );
    }
    return new TokenDataset(mem.length, vocabSize, bytesPerToken, mem, [], 'memory');
  }

  /** Copies tokens [start, start + out.length) of the stream into `out`. */
  read(start: number, out: Int32Array): void {
    if (start < 0 || start + out.length > this.numTokens)
      throw new RangeError(`TokenDataset.read: [${start}, ${start + out.length}) is outside [0, ${this.numTokens})`);
    if (this.memory) {
      out.set(this.memory.subarray(start, start + out.length));
      return;
    }
    let pos = start;
    let filled = 0;
    // Binary search the shard holding `pos`, then read across shard boundaries as needed.
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.shards[mid]!.start <= pos) lo = mid;
      else hi = mid - 1;
    }
    for (let k = lo; filled < out.length; k++) {
      const sf = this.shards[k]!;
      const offset = pos - sf.start;
      const n = Math.min(out.length - filled, sf.tokens - offset);
      if (n <= 0) continue;
      const bytes = n * sf.width;
      if (this.scratch.length < bytes) this.scratch = Buffer.alloc(Math.max(bytes, this.scratch.length * 2));
      let got = 0;
      while (got < bytes) {
        const r = readSync(sf.fd, this.scratch, got, bytes - got, HEADER_BYTES + offset * sf.width + got);
        if (r === 0)
          throw new DataError(
            `${sf.file}: unexpected end of file at token ${offset + got / sf.width}; the shard was truncated after opening`,
          );
        got += r;
      }
      // Shards are little-endian, as every platform Node runs on; Buffer.alloc memory is not pooled, so aligned.
      const view =
        sf.width === 2
          ? new Uint16Array(this.scratch.buffer, this.scratch.byteOffset, n)
          : new Uint32Array(this.scratch.buffer, this.scratch.byteOffset, n);
      this.checkIds(view, sf, offset);
      out.set(view, filled);
      filled += n;
      pos += n;
    }
  }

  /** Throws a DataError naming the shard and position of the first id in `ids` outside the vocabulary. */
  private checkIds(ids: Uint16Array | Uint32Array, sf: ShardFile, offset: number): void {
    const V = this.vocabSize;
    for (let j = 0; j < ids.length; j++) {
      if (ids[j]! >= V)
        throw new DataError(
          `${sf.file}: token id ${ids[j]} at position ${offset + j} is outside the vocabulary (size ${V}); the shard is corrupt or was written with another tokenizer, prepare the dataset again`,
        );
    }
  }

  /**
   * Reads every token once and throws a DataError naming the shard and position of the first id outside the
   * vocabulary (`data inspect` runs it; training meets such an id in the window that holds it).
   */
  checkAllIds(): void {
    const chunk = new Int32Array(Math.min(this.numTokens, 1 << 20));
    for (let start = 0; start < this.numTokens; start += chunk.length) {
      const n = Math.min(chunk.length, this.numTokens - start);
      this.read(start, n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  }

  private checkWindow(B: number, T: number, op: string): void {
    if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1)
      throw new RangeError(`TokenDataset.${op}: B and T must be positive integers, received B=${B} T=${T}`);
    if (this.numTokens < T + 1)
      throw new DataError(
        `${this.source}: ${this.numTokens} tokens are too few for a window of T + 1 = ${T + 1}; use a shorter context or more data`,
      );
  }

  private fill(b: number, T: number, start: number, window: Int32Array, batch: Batch): void {
    this.read(start, window);
    batch.ids.set(window.subarray(0, T), b * T);
    batch.targets.set(window.subarray(1, T + 1), b * T);
  }

  /** B windows of T + 1 tokens at uniform random starts (drawn with rng.int only). */
  sampleBatch(rng: Rng, B: number, T: number): Batch {
    this.checkWindow(B, T, 'sampleBatch');
    const batch: Batch = { ids: new Int32Array(B * T), targets: new Int32Array(B * T) };
    const window = new Int32Array(T + 1);
    for (let b = 0; b < B; b++) this.fill(b, T, rng.int(this.numTokens - T), window, batch);
    return batch;
  }

  /** Number of non-overlapping windows `sequential` visits. */
  windows(T: number): number {
    return Math.max(0, Math.floor((this.numTokens - 1) / T));
  }

  /**
   * Non-overlapping windows in order (window k covers inputs k*T .. k*T+T-1), B per batch; the last batch may hold
   * fewer rows (ids.length / T of them).
   */
  *sequential(B: number, T: number): Generator<Batch> {
    this.checkWindow(B, T, 'sequential');
    const total = this.windows(T);
    const window = new Int32Array(T + 1);
    for (let k = 0; k < total; k += B) {
      const rows = Math.min(B, total - k);
      const batch: Batch = { ids: new Int32Array(rows * T), targets: new Int32Array(rows * T) };
      for (let b = 0; b < rows; b++) this.fill(b, T, (k + b) * T, window, batch);
      yield batch;
    }
  }

  /** Closes the shard files. */
  close(): void {
    for (const sf of this.shards) closeSync(sf.fd);
    this.shards.length = 0;
  }
}
