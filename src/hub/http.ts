/**
 * Minimal HTTP(S) GET for the hub client: node:http/https with redirects followed by hand (at most 5), so the
 * first response's headers (the hub's X-Linked-Etag / ETag hash, X-Linked-Size) stay visible, the Authorization
 * header is sent only to the original host, and the body arrives as a stream the caller writes to disk.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HubResponse {
  status: number;
  /** Headers of the first response (before any redirect), lower-case names. */
  firstHeaders: IncomingMessage['headers'];
  /** The final response; its body is unread. */
  res: IncomingMessage;
  url: string;
}

function once(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers }, resolve);
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url.host} for 60 s`)));
    req.end();
  });
}

/** GETs `url` with `headers`; `auth` is added for the original host only. */
export async function hubGet(url: string, headers: Record<string, string>, auth?: string): Promise<HubResponse> {
  const origin = new URL(url);
  let current = origin;
  let first: IncomingMessage['headers'] | null = null;
  for (let hop = 0; hop <= 5; hop++) {
    const h = {
      'user-agent': 'llmforge',
      ...headers,
      ...(auth && current.host === origin.host ? { authorization: auth } : {}),
    };
    const res = await once(current, h);
    first ??= res.headers;
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, current);
      continue;
    }
    return { status, firstHeaders: first, res, url: current.toString() };
  }
  throw new Error(`${url}: more than 5 redirects`);
}

/** Reads a whole (small) response body as text. */
export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
