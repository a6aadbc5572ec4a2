/**
 * The OpenAI-compatible HTTP server of `llmforge serve`, on node's http module: GET /health, GET /v1/models (the
 * one loaded model), POST /v1/completions and POST /v1/chat/completions. Bodies are read (at most 4 MiB), parsed
 * and validated; a bad body is 400, an unknown path 404, a known path with the wrong method 405, each with OpenAI's
 * error body. A client that disconnects aborts its generation; `shutdown` stops accepting connections, aborts the
 * running generation and resolves once every connection is closed. Each request is logged as one line. With a
 * CORS origin, every response carries Access-Control-Allow-Origin for it and an OPTIONS preflight on a known path
 * is answered 204 with the methods and headers allowed (without one, OPTIONS is a 405 like any other method).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PromptTemplate } from '../chat/templates.ts';
import type { LanguageModel } from '../models/model.ts';
import { eosId, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { complete, type CompletionStats, type ServeContext } from './complete.ts';
import { GenerationQueue } from './generation-queue.ts';
import { errorBody, modelList, type Kind } from './openai-shapes.ts';
import { parseApiRequest, RequestError } from './request.ts';
import { UserError } from '../util/user-error.ts';

export interface ServeOptions {
  model: LanguageModel;
  tokenizer: TextTokenizer;
  /** How chat messages become a prompt. */
  template: PromptTemplate;
  /** The id /v1/models and every response report (a request may name any model; this one answers). */
  modelId: string;
  /** Origin that browsers may call the API from ("*" for any); none: no CORS headers. */
  corsOrigin?: string;
  /** Default max_tokens, and the most generated per choice (a larger request is clamped to it). */
  maxNewTokens: number;
  /** Receives one line per request (method, path, status, tokens, milliseconds); none when absent. */
  log?: (line: string) => void;
}

export interface ApiServer {
  server: Server;
  /** Stops accepting, aborts the running generation (its response ends unfinished), resolves when all connections are closed. */
  shutdown(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;
const ROUTES: Record<string, string> = {
  '/health': 'GET',
  '/v1/models': 'GET',
  '/v1/completions': 'POST',
  '/v1/chat/completions': 'POST',
};

function sendJson(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY) throw new RequestError(`body: expected at most ${MAX_BODY} bytes, received more`, 413);
    parts.push(part);
  }
  const text = Buffer.concat(parts).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new RequestError(
      `body: expected JSON, received ${text.trim() === '' ? 'an empty body' : `invalid JSON (${(e as Error).message})`}`,
    );
  }
}

function tokensNote(s: CompletionStats): string {
  const notes = s.notes.length > 0 ? `; ${s.notes.join('; ')}` : '';
  return ` ${s.promptTokens}+${s.completionTokens} tokens (${s.outcome === 'aborted' ? 'aborted' : `finish ${s.outcome}`}${notes})`;
}

/**
 * Checks a CORS origin: "*" or a bare origin such as "http://localhost:3000" (scheme, host, optional port; no path).
 * Returns it, or throws a UserError naming `what`.
 */
export function checkCorsOrigin(origin: string, what = 'corsOrigin'): string {
  let ok = origin === '*';
  if (!ok) {
    try {
      const u = new URL(origin);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === origin;
    } catch {
      ok = false;
    }
  }
  if (!ok)
    throw new UserError(
      `${what}: expected "*" or an origin like http://localhost:3000 (scheme://host[:port], no path or trailing slash), received ${JSON.stringify(origin)}`,
    );
  return origin;
}

export function createApiServer(opts: ServeOptions): ApiServer {
  if (opts.corsOrigin !== undefined) checkCorsOrigin(opts.corsOrigin);
  const ctx: ServeContext = {
    model: opts.model,
    tokenizer: opts.tokenizer,
    template: opts.template,
    eosId: eosId(opts.tokenizer),
    modelId: opts.modelId,
    queue: new GenerationQueue(),
  };
  const started = Math.floor(Date.now() / 1000);
  const stopping = new AbortController();

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<CompletionStats | null> => {
    const method = ROUTES[path];
    if (method === undefined) {
      throw new RequestError(
        `path: expected one of ${Object.entries(ROUTES)
          .map(([p, m]) => `${m} ${p}`)
          .join(', ')}, received ${req.method} ${path}`,
        404,
      );
    }
    if (req.method === 'OPTIONS' && opts.corsOrigin !== undefined) {
      const asked = req.headers['access-control-request-headers'];
      res
        .writeHead(204, {
          'access-control-allow-methods': `${method}, OPTIONS`,
          'access-control-allow-headers':
            typeof asked === 'string' && asked !== '' ? asked : 'authorization, content-type',
          'access-control-max-age': '86400',
        })
        .end();
      return null;
    }
    if (req.method !== method)
      throw Object.assign(new RequestError(`method: expected ${method} for ${path}, received ${req.method}`, 405), {
        allow: method,
      });
    if (path === '/health') {
      sendJson(res, 200, { status: 'ok', model: opts.modelId, queued: ctx.queue.size });
      return null;
    }
    if (path === '/v1/models') {
      sendJson(res, 200, modelList(opts.modelId, started));
      return null;
    }
    const kind: Kind = path === '/v1/completions' ? 'completion' : 'chat';
    const body = await readJson(req);
    const apiReq = parseApiRequest(kind, body, { maxNewTokens: opts.maxNewTokens });
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) gone.abort();
    });
    return complete(ctx, kind, apiReq, res, AbortSignal.any([gone.signal, stopping.signal]));
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (opts.corsOrigin !== undefined) {
      res.setHeader('access-control-allow-origin', opts.corsOrigin);
      if (opts.corsOrigin !== '*') res.setHeader('vary', 'Origin');
    }
    void route(req, res, path)
      .then(
        (stats) => stats,
        (e: unknown) => {
          if (e instanceof RequestError) {
            sendJson(
              res,
              e.status,
              errorBody(e.message, 'invalid_request_error'),
              (e as { allow?: string }).allow ? { allow: (e as { allow?: string }).allow! } : {},
            );
          } else if (e instanceof UserError) {
            sendJson(res, 400, errorBody((e as Error).message, 'invalid_request_error'));
          } else {
            sendJson(res, 500, errorBody(`server: ${(e as Error).message ?? String(e)}`, 'server_error'));
            opts.log?.(`error: ${(e as Error).stack ?? String(e)}`);
          }
          if (!res.writableEnded) res.destroy(); // a failure after a stream had begun: end the connection, do not leave it hanging
          return null;
        },
      )
      .then((stats) => {
        const ms = (performance.now() - t0).toFixed(0);
        opts.log?.(`${req.method} ${path} ${res.statusCode}${stats ? tokensNote(stats) : ''} ${ms} ms`);
      });
  });

  return {
    server,
    shutdown() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Once the running generation has answered its (aborted) request, what is left open is only idle or half-closed.
      void ctx.queue.idle().then(() => setImmediate(() => server.closeAllConnections()));
      return closed;
    },
  };
}
