/**
 * Crash-safe file writes: data goes to a temporary file in the same directory, is flushed to disk, and is then
 * renamed over the target, so a reader (or a resumed run after Ctrl-C or a crash) sees either the old file or the
 * new one, never a torn write.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

let counter = 0;

/** Writes every byte of `bytes` at the file's current position (writeSync may write fewer than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/**
 * Streams a file to `path` atomically (creating parent directories): `write(fd)` writes the contents (with writeAll)
 * to a temporary file beside `path`, which is then flushed and renamed over `path`. If `write` throws, the temporary
 * file is removed, `path` is left as it was, and the error propagates. For files too large to build in memory
 * (weights, shards); the whole-buffer case is writeFileAtomic.
 */
export function writeFileAtomicWith(path: string, write: (fd: number) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
  const fd = openSync(tmp, 'w');
  try {
    write(fd);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Writes `data` to `path` atomically (creating parent directories). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicWith(path, (fd) => writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}

/** Writes a JSON document atomically, pretty-printed. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
