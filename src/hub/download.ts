/**
 * Downloading one hub file into the cache: the bytes go to `<file>.incomplete`; a partial file left by an
 * interrupted transfer (this run's or an earlier one's) is resumed with an HTTP Range request; the result is
 * verified (size, and sha256 when the listing or the X-Linked-Etag/ETag header gives one) and only then renamed
 * into place, so a file under its final name is always complete. Transfers that break off are retried (with Range)
 * a few times before giving up; a hash mismatch deletes the partial file and is an error.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { hubGet } from './http.ts';
import { HubError } from './repo-ref.ts';
import { statusError } from './status.ts';

export interface DownloadOptions {
  /** Expected size in bytes (from the listing), when known. */
  size?: number | undefined;
  /** Expected sha256 (hex), when known from the listing. */
  sha256?: string | undefined;
  /** `Bearer <token>` for gated or private models. */
  auth?: string | undefined;
  /** Attempts before giving up on a transfer that keeps breaking off. */
  attempts?: number;
  /** Called with the bytes on disk so far and the expected total (0 when unknown). */
  onProgress?: (done: number, total: number) => void;
  /** Called when a transfer broke off and is about to be resumed from `have` bytes. */
  onRetry?: (have: number, error: Error) => void;
  /** The repository and file, for messages. */
  what: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

function headerHash(h: Record<string, string | string[] | undefined>): string | undefined {
  for (const key of ['x-linked-etag', 'etag']) {
    const v = h[key];
    const s = (Array.isArray(v) ? v[0] : v)?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
    if (s && SHA256.test(s)) return s;
  }
  return undefined;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sizeOf = (p: string): number => (existsSync(p) ? statSync(p).size : 0);

/** Downloads `url` to `dest` (see the file comment); returns the verified size and sha256. */
export async function downloadFile(
  url: string,
  dest: string,
  opts: DownloadOptions,
): Promise<{ size: number; sha256: string }> {
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.incomplete`;
  let expectedSize = opts.size;
  let expectedSha = opts.sha256?.toLowerCase();
  if (existsSync(dest) && (expectedSize === undefined || sizeOf(dest) === expectedSize)) {
    const sha = await sha256File(dest); // already downloaded by an earlier, unfinished pull
    if (expectedSha === undefined || sha === expectedSha) return { size: sizeOf(dest), sha256: sha };
    rmSync(dest, { force: true });
  }
  const attempts = opts.attempts ?? 5;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let have = sizeOf(part);
    if (expectedSize !== undefined && have > expectedSize) {
      rmSync(part, { force: true });
      have = 0;
    }
    if (expectedSize !== undefined && have === expectedSize && have > 0) break; // a previous run got every byte
    const r = await hubGet(url, have > 0 ? { range: `bytes=${have}-` } : {}, opts.auth);
    if (r.status === 416) {
      r.res.resume();
      rmSync(part, { force: true });
      continue;
    }
    if (r.status !== 200 && r.status !== 206) {
      r.res.resume();
      throw statusError(r.status, opts.what, url);
    }
    expectedSha ??= headerHash(r.firstHeaders);
    const append = r.status === 206 && have > 0;
    const start = append ? have : 0;
    const length = Number(r.res.headers['content-length']);
    if (expectedSize === undefined && Number.isFinite(length)) expectedSize = start + length;
    let done = start;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        opts.onProgress?.(done, expectedSize ?? 0);
        cb(null, chunk);
      },
    });
    const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    try {
      await pipeline(r.res, counter, out);
      if (!r.res.complete) throw new Error('the connection closed before the whole file arrived');
      if (expectedSize !== undefined && sizeOf(part) < expectedSize)
        throw new Error(`received ${sizeOf(part)} of ${expectedSize} bytes`);
      lastError = null;
      break;
    } catch (e) {
      // A broken pipeline destroys the file stream, but a write already in flight still lands: wait until the file is
      // closed so its size is final before the next attempt asks for the bytes after it.
      out.destroy();
      await closed;
      lastError = e; // keep the partial file: the next attempt resumes it with a Range request
      if (attempt < attempts) opts.onRetry?.(sizeOf(part), e as Error);
    }
  }
  if (lastError !== null) {
    throw new HubError(
      `${opts.what}: the download broke off ${attempts} times (${(lastError as Error).message}); run the command again to resume from ${part}`,
    );
  }
  const size = sizeOf(part);
  if (expectedSize !== undefined && size !== expectedSize) {
    rmSync(part, { force: true });
    throw new HubError(
      `${opts.what}: received ${size} bytes, expected ${expectedSize}; the partial file was deleted, run the command again`,
    );
  }
  const sha = await sha256File(part);
  if (expectedSha !== undefined && sha !== expectedSha) {
    rmSync(part, { force: true });
    throw new HubError(
      `${opts.what}: sha256 mismatch (expected ${expectedSha}, received ${sha}); the corrupt download was deleted`,
    );
  }
  renameSync(part, dest);
  return { size, sha256: sha };
}
