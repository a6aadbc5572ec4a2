/**
 * A local stand-in for the Hugging Face hub for tests: node:http on 127.0.0.1 (random port) serving the hub's URL
 * layout from the checkpoints that test/helpers/hf-checkpoints.ts writes (repository owner/name is the directory
 * owner-name, e.g. llmforge-test/tiny_gpt2): the file listing at
 * /api/models/{repo}/revision/{rev} generated from the directory (rfilename, size, lfs.sha256 for weights), and
 * files at /{repo}/resolve/{rev}/{file} with Range support and the sha256 in X-Linked-Etag. Switches make it drop
 * the connection mid-file on a file's first request, serve corrupted bytes, or demand a token. Every request is
 * recorded (path, Range, Authorization).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hfCheckpoints } from '../helpers/hf-checkpoints.ts';

/** The directory the server serves (written when this module loads, removed when the test file is done). */
export const CHECKPOINTS = hfCheckpoints();

export interface HubServerOptions {
  /** Files whose first GET sends half the bytes and then drops the connection. */
  dropFirst?: string[];
  /** Files served with one byte flipped (the listing keeps the true sha256). */
  corrupt?: string[];
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
}

export interface RecordedRequest {
  path: string;
  range: string | undefined;
  auth: string | undefined;
}

export interface HubServer {
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export async function startHubServer(opts: HubServerOptions = {}): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const served = new Set<string>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ path: url.pathname, range: req.headers.range, auth: req.headers.authorization });
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    const api = /^\/api\/models\/([^/]+)\/([^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const file = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const dirOf = (owner: string, name: string): string => join(CHECKPOINTS, `${owner}-${name}`);
    if (api) {
      const dir = dirOf(api[1]!, api[2]!);
      if (!existsSync(dir)) return void res.writeHead(404).end('not found');
      const siblings = readdirSync(dir)
        .sort()
        .map((f) => {
          const size = statSync(join(dir, f)).size;
          return f.endsWith('.safetensors')
            ? { rfilename: f, size, lfs: { sha256: sha256(readFileSync(join(dir, f))), size } }
            : { rfilename: f, size };
        });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ id: `${api[1]}/${api[2]}`, sha: 'a'.repeat(40), siblings }));
      return;
    }
    if (!file) return void res.writeHead(404).end('not found');
    const path = join(dirOf(file[1]!, file[2]!), decodeURIComponent(file[4]!));
    if (!existsSync(path)) return void res.writeHead(404).end('not found');
    let body = readFileSync(path);
    const name = decodeURIComponent(file[4]!);
    if (opts.corrupt?.includes(name)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const headers: Record<string, string> = {
      'x-linked-etag': `"${sha256(readFileSync(path))}"`,
      'accept-ranges': 'bytes',
    };
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) return void res.writeHead(416).end();
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, { ...headers, 'content-length': String(part.length) });
    if (opts.dropFirst?.includes(name) && !served.has(name)) {
      served.add(name);
      res.write(part.subarray(0, part.length >> 1), () => res.socket?.destroy());
      return;
    }
    served.add(name);
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
