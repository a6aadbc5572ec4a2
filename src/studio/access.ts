/**
 * The studio's safety rules, kept apart from the HTTP plumbing so they can be tested without binding anything:
 * which hosts are loopback, whether a token is needed (any host that is not loopback) and whether a request carries
 * it (Authorization: Bearer or ?token=, compared in constant time), the Host header a loopback server accepts (its
 * own loopback names, which stops DNS rebinding), the Origin a POST may come from (the server's own), and the model
 * paths the API may open: inside the runs directory or inside a model path named on the command line, after
 * resolving symlinks, with `..` segments refused outright.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** A request the studio refuses: its HTTP status and a one-line message. */
export class StudioError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The token the server needs: the one given, else a fresh one when the host is not loopback, else none. */
export function resolveToken(host: string, given: string | undefined): { token: string | null; generated: boolean } {
  if (given !== undefined && given !== '') return { token: given, generated: false };
  if (isLoopbackHost(host)) return { token: null, generated: false };
  return { token: randomBytes(18).toString('base64url'), generated: true };
}

/** The token a request carries (Authorization: Bearer <t>, else ?token=<t>), or null. */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  return url.searchParams.get('token');
}

export function tokenMatches(expected: string, got: string | null): boolean {
  if (got === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The origins (scheme://host:port) a loopback server on `port` answers as. */
export function loopbackOrigins(port: number): Set<string> {
  return new Set(['127.0.0.1', 'localhost', '[::1]'].map((h) => `http://${h}:${port}`));
}

/**
 * Checks a request's Host and, for a POST, its Origin. A loopback server accepts only its loopback names as Host
 * (a rebound DNS name pointing at 127.0.0.1 is refused); a POST with an Origin must come from the server's own
 * origin (a loopback name, or for another host the Host header the request was sent to). Throws a 403 StudioError.
 */
export function checkHostAndOrigin(req: IncomingMessage, loopback: boolean, port: number): void {
  const host = req.headers.host ?? '';
  const own = loopback ? loopbackOrigins(port) : new Set([`http://${host}`]);
  if (loopback && !own.has(`http://${host.toLowerCase()}`))
    throw new StudioError(`host: expected one of ${[...own].join(', ')}, received ${JSON.stringify(host)}`, 403);
  const origin = req.headers.origin;
  if (req.method === 'POST' && typeof origin === 'string' && !own.has(origin.toLowerCase()))
    throw new StudioError(
      `origin: cross-site request refused: expected ${[...own].join(' or ')}, received ${JSON.stringify(origin)}`,
      403,
    );
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Whether `path`, symlinks resolved, lies inside `root` (false when either is missing). */
export function insideReal(root: string, path: string): boolean {
  const r = real(root);
  const p = real(path);
  return r !== null && p !== null && inside(r, p);
}

function real(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** Where the API may open models: the runs directory and each --model path, resolved. */
export interface ModelRoots {
  runsDir: string;
  /** The --model values as given (an exact match is accepted as is, e.g. hf://owner/name). */
  models: readonly string[];
}

/**
 * The path on disk for a model the API was asked for: a --model value exactly as given, else a path relative to the
 * runs directory (or absolute) whose real path lies inside the runs directory or inside a --model directory.
 * `..` segments are refused before anything is looked at. Throws StudioError 403 (outside) or 404 (missing).
 */
export function resolveModelPath(roots: ModelRoots, asked: string): string {
  if (roots.models.includes(asked)) return asked;
  if (asked === '' || asked.includes('\0')) throw new StudioError('model: expected a model path, received none', 400);
  if (asked.split(/[/\\]/).includes('..'))
    throw new StudioError(
      `model: ${JSON.stringify(asked)} has a ".." segment; paths must stay inside the runs directory or a --model path`,
      403,
    );
  const path = isAbsolute(asked) ? asked : resolve(roots.runsDir, asked);
  const r = real(path);
  if (r === null) throw new StudioError(`model: ${JSON.stringify(asked)}: no such file or directory`, 404);
  assertAllowed(roots, r, asked);
  return r;
}

/** Throws a 403 StudioError unless the real path `r` lies inside the runs directory or a --model path. */
export function assertAllowed(roots: ModelRoots, r: string, asked: string): void {
  const allowed = [roots.runsDir, ...roots.models].map(real).filter((p): p is string => p !== null);
  if (!allowed.some((root) => inside(root, r)))
    throw new StudioError(
      `model: ${JSON.stringify(asked)} is outside the runs directory and the --model paths; refused`,
      403,
    );
}
