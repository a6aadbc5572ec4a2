/**
 * Following a growing metrics.jsonl as server-sent events: the lines already there are sent once, then a light stat
 * poll reads only the bytes past the last offset and sends each complete new line as `id: <byte offset after it>`
 * and `data: <the JSON record>` (a line still being written waits for its newline). A file that shrinks or is
 * replaced (a resumed run cuts its log back to the checkpoint's step and rewrites it atomically) is announced as an
 * `event: reset` and then read again from the start. A client may resume with Last-Event-ID or `?offset=`. While a
 * slow client has not drained what was written, nothing more is read for it; a client that goes away (or the
 * server stopping) ends the poll, so no vanished client holds a timer, a file or memory.
 */
import { open, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

export interface FollowOptions {
  /** Poll interval in ms (default 250). */
  intervalMs?: number;
  /** Byte offset to start from (a resuming client); default 0. */
  offset?: number;
  /** Ends the stream (server shutdown). */
  signal?: AbortSignal;
}

const CHUNK = 1 << 20;
const HEARTBEAT_MS = 15_000;

/** Streams `path` to `res` as server-sent events until the client or `signal` ends it; resolves then. */
export function followMetrics(path: string, res: ServerResponse, opts: FollowOptions = {}): Promise<void> {
  const interval = opts.intervalMs ?? 250;
  let offset = Math.max(0, Math.floor(opts.offset ?? 0));
  let ino = -1;
  let busy = false;
  let lastWrite = Date.now();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: 2000\n\n`);

  const send = (text: string): void => {
    if (res.destroyed || res.writableEnded) return;
    res.write(text);
    lastWrite = Date.now();
  };

  const poll = async (): Promise<void> => {
    if (busy || res.destroyed || res.writableNeedDrain) return; // a slow client: read nothing more until it drains
    busy = true;
    try {
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(path);
      } catch {
        return; // not there (yet)
      }
      if ((ino !== -1 && st.ino !== ino) || st.size < offset) {
        if (ino !== -1 || offset > 0) send('event: reset\ndata: {}\n\n');
        offset = 0;
      }
      ino = st.ino;
      if (st.size <= offset) return;
      const fh = await open(path, 'r');
      try {
        while (offset < st.size && !res.destroyed && !res.writableNeedDrain) {
          const want = Math.min(CHUNK, st.size - offset);
          const buf = Buffer.alloc(want);
          const { bytesRead } = await fh.read(buf, 0, want, offset);
          if (bytesRead === 0) break;
          const end = buf.lastIndexOf(0x0a, bytesRead - 1);
          if (end < 0) {
            if (bytesRead === CHUNK) offset += bytesRead; // one line over 1 MiB: skip it rather than stall
            break;
          }
          let pos = offset;
          const events: string[] = [];
          for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
            pos += Buffer.byteLength(line) + 1;
            if (line.trim() === '') continue;
            try {
              JSON.parse(line);
            } catch {
              continue; // a torn line
            }
            events.push(`id: ${pos}\ndata: ${line}\n\n`);
          }
          offset += end + 1;
          if (events.length > 0) send(events.join(''));
        }
      } finally {
        await fh.close();
      }
    } finally {
      busy = false;
    }
  };

  return new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      void poll();
      if (Date.now() - lastWrite > HEARTBEAT_MS) send(': ping\n\n');
    }, interval);
    const finish = (): void => {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = (): void => {
      if (!res.writableEnded) res.end();
      finish();
    };
    res.on('close', finish);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    else void poll();
  });
}
