/**
 * The HTTP server of `llmforge studio`, on node's http module: a server-rendered runs page at `/` and a JSON API
 * under `/api/`: GET /api/runs, GET /api/runs/<name>, GET /api/runs/<name>/metrics (all records as JSON, or with
 * ?follow=1 server-sent events tailing metrics.jsonl), POST /api/predict ({model, prompt, top}: exactly what
 * `predict --json` prints) and POST /api/tokenize ({model, text}: the tokens with their ids). Every request passes
 * the checks of access.ts first: the token when the server has one, the Host of a loopback server, the Origin of a
 * POST; model paths stay inside the runs directory or a --model path. Bodies over `maxBody` are 413; every refusal
 * is a one-line JSON `{"error": "..."}`. Models are loaded once and kept (a few, reloaded when their files change).
 */
import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadModelDir, type LoadedModel, resolveModelDir } from '../generate/model-dir.ts';
import { predictNext, promptIds, tokenText } from '../generate/predict.ts';
import { UserError } from '../util/user-error.ts';
import {
  assertAllowed,
  checkHostAndOrigin,
  insideReal,
  isLoopbackHost,
  type ModelRoots,
  requestToken,
  resolveModelPath,
  StudioError,
  tokenMatches,
} from './access.ts';
import { runsPage } from './html.ts';
import { isRunName, listRuns, runDetail, type RunsOptions } from './runs.ts';
import { followMetrics } from './tail.ts';

export interface StudioOptions {
  /** The runs directory. */
  runsDir: string;
  /** The host the server is bound to (decides the loopback Host/Origin rules); default 127.0.0.1. */
  host?: string;
  /** Needed by every request when set (Authorization: Bearer, or ?token=). */
  token?: string | null;
  /** Model paths named on the command line, which the API may open besides the runs directory. */
  models?: readonly string[];
  /** Largest request body in bytes (default 1 MiB). */
  maxBody?: number;
  /** Metrics tail poll interval in ms (default 250). */
  pollMs?: number;
  /** A run written to this recently (ms) and not finished is "running" (default 120 000). */
  activeWindowMs?: number;
  /** One line per request. */
  log?: (line: string) => void;
}

export interface StudioServer {
  server: Server;
  /** Ends the event streams, stops accepting and resolves when every connection is closed. */
  shutdown(): Promise<void>;
}

const MODEL_CACHE = 4;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers })
    .end(`${JSON.stringify(body)}\n`);
}

async function readJson(req: IncomingMessage, maxBody: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBody)
    throw new StudioError(`body: expected at most ${maxBody} bytes, received ${declared}`, 413);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBody) throw new StudioError(`body: expected at most ${maxBody} bytes, received more`, 413);
    parts.push(part);
  }
  const text = Buffer.concat(parts).toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new StudioError(
      `body: expected a JSON object, received ${text.trim() === '' ? 'nothing' : 'invalid JSON'}`,
      400,
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new StudioError(`body: expected a JSON object, received ${Array.isArray(v) ? 'an array' : typeof v}`, 400);
  return v as Record<string, unknown>;
}

function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string')
    throw new StudioError(`${name}: expected a string, received ${v === undefined ? 'nothing' : typeof v}`, 400);
  return v;
}

function signature(dir: string): string {
  return ['config.json', 'model.safetensors']
    .map((f) => {
      try {
        const s = statSync(join(dir, f));
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

export function createStudioServer(opts: StudioOptions): StudioServer {
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  const token = opts.token ?? null;
  const maxBody = opts.maxBody ?? 1024 * 1024;
  const roots: ModelRoots = { runsDir: opts.runsDir, models: opts.models ?? [] };
  const runsOpts: RunsOptions = opts.activeWindowMs !== undefined ? { activeWindowMs: opts.activeWindowMs } : {};
  const stopping = new AbortController();
  const cache = new Map<string, { sig: string; loaded: LoadedModel }>();

  const openModel = (asked: string): LoadedModel => {
    const path = resolveModelPath(roots, asked);
    const modelDir = resolveModelDir(path);
    if (!roots.models.includes(asked)) assertAllowed(roots, realpathSync(modelDir), asked); // no symlink out
    const sig = signature(modelDir);
    const hit = cache.get(path);
    if (hit && hit.sig === sig) {
      cache.delete(path);
      cache.set(path, hit);
      return hit.loaded;
    }
    const loaded = loadModelDir(path);
    if (!roots.models.includes(asked)) assertAllowed(roots, realpathSync(loaded.tokenizerDir), asked);
    cache.set(path, { sig, loaded });
    while (cache.size > MODEL_CACHE) cache.delete(cache.keys().next().value!);
    return loaded;
  };

  const port = (): number => (server.address() as AddressInfo | null)?.port ?? 0;

  const runName = (segment: string): string => {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      throw new StudioError('run: the name is not valid percent-encoding', 400);
    }
    if (!isRunName(name)) throw new StudioError(`run: ${JSON.stringify(name)} is not a run name`, 403);
    return name;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    checkHostAndOrigin(req, loopback, port());
    if (token !== null && !tokenMatches(token, requestToken(req, url)))
      throw new StudioError(
        'token: this server needs its token (Authorization: Bearer <token> or ?token=<token>)',
        401,
      );
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const want = (m: string): void => {
      if (method !== m)
        throw Object.assign(new StudioError(`method: expected ${m} for ${path}, received ${method}`, 405), {
          allow: m,
        });
    };
    if (path === '/' || path === '/index.html') {
      want('GET');
      const query = token !== null ? `?token=${encodeURIComponent(token)}` : '';
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          'x-content-type-options': 'nosniff',
        })
        .end(runsPage(opts.runsDir, listRuns(opts.runsDir, runsOpts), query));
      return;
    }
    if (path === '/api/runs') {
      want('GET');
      sendJson(res, 200, { runsDir: opts.runsDir, runs: listRuns(opts.runsDir, runsOpts) });
      return;
    }
    const m = /^\/api\/runs\/([^/]+)(\/metrics)?$/.exec(path);
    if (m) {
      want('GET');
      const name = runName(m[1]!);
      const detail = runDetail(opts.runsDir, name, runsOpts);
      if (detail === null) throw new StudioError(`run: no run named ${JSON.stringify(name)} in ${opts.runsDir}`, 404);
      if (!insideReal(opts.runsDir, join(opts.runsDir, name)))
        throw new StudioError(`run: ${JSON.stringify(name)} leads out of the runs directory; refused`, 403);
      if (!m[2]) {
        sendJson(res, 200, detail);
        return;
      }
      const stage = url.searchParams.get('stage') ?? detail.metrics.at(-1);
      if (stage === undefined || !detail.metrics.includes(stage))
        throw new StudioError(
          `stage: expected one of ${detail.metrics.map((s) => JSON.stringify(s)).join(', ') || '(none: no metrics.jsonl yet)'}, received ${JSON.stringify(stage ?? '')}`,
          404,
        );
      const file = join(opts.runsDir, name, stage, 'metrics.jsonl');
      if (!insideReal(opts.runsDir, file))
        throw new StudioError(
          `run: ${JSON.stringify(name)}: metrics.jsonl leads out of the runs directory; refused`,
          403,
        );
      if (url.searchParams.get('follow') === '1') {
        const last = req.headers['last-event-id'];
        const offset = Number(typeof last === 'string' ? last : (url.searchParams.get('offset') ?? 0));
        await followMetrics(file, res, {
          offset: Number.isFinite(offset) ? offset : 0,
          signal: stopping.signal,
          ...(opts.pollMs !== undefined ? { intervalMs: opts.pollMs } : {}),
        });
        return;
      }
      const records = (await readFile(file, 'utf8'))
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as unknown];
          } catch {
            return [];
          }
        });
      sendJson(res, 200, { run: name, stage, records });
      return;
    }
    if (path === '/api/predict') {
      want('POST');
      const body = await readJson(req, maxBody);
      const model = field(body, 'model');
      const prompt = field(body, 'prompt');
      const top = body.top === undefined ? 10 : body.top;
      if (typeof top !== 'number' || !Number.isInteger(top) || top < 1)
        throw new StudioError(`top: expected a positive integer, received ${JSON.stringify(top)}`, 400);
      const loaded = openModel(model);
      const preds = predictNext(loaded.model, loaded.tokenizer, prompt, Math.min(top, loaded.model.config.vocabSize));
      sendJson(
        res,
        200,
        preds.map(({ id, token, prob }) => ({ id, token, prob })),
      );
      return;
    }
    if (path === '/api/tokenize') {
      want('POST');
      const body = await readJson(req, maxBody);
      const loaded = openModel(field(body, 'model'));
      const text = field(body, 'text');
      const ids = text === '' ? [] : promptIds(loaded.tokenizer, text);
      sendJson(res, 200, {
        count: ids.length,
        tokens: ids.map((id) => ({ id, token: tokenText(loaded.tokenizer, id) })),
      });
      return;
    }
    throw new StudioError(
      `path: expected GET /, GET /api/runs, GET /api/runs/<name>, GET /api/runs/<name>/metrics, POST /api/predict or POST /api/tokenize, received ${method} ${path}`,
      404,
    );
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: 'url: not a valid request target' });
      return;
    }
    void route(req, res, url)
      .catch((e: unknown) => {
        if (e instanceof StudioError) {
          const allow = (e as { allow?: string }).allow;
          const extra: Record<string, string> = allow ? { allow } : {};
          if (e.status === 413) extra.connection = 'close';
          sendJson(res, e.status, { error: e.message }, extra);
        } else if (e instanceof UserError) {
          sendJson(res, 400, { error: e.message.split('\n')[0] });
        } else {
          sendJson(res, 500, { error: `server: ${(e as Error).message ?? String(e)}` });
          opts.log?.(`error: ${(e as Error).stack ?? String(e)}`);
        }
        if (!res.writableEnded) res.destroy();
      })
      .then(() => {
        // the token never reaches the log
        opts.log?.(`${req.method} ${url.pathname} ${res.statusCode} ${(performance.now() - t0).toFixed(0)} ms`);
      });
  });

  return {
    server,
    shutdown() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      setImmediate(() => server.closeAllConnections());
      return closed;
    },
  };
}
