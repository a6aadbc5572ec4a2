/**
 * `pullModel`: brings a hub model into the cache and returns its snapshot directory. It lists the revision's files
 * (`/api/models/{repo}/revision/{revision}`: sha, siblings[].rfilename, size, lfs.sha256), picks only what llmforge
 * needs (config, generation config, tokenizer files, model.safetensors or the index and its shards), downloads each
 * with resume and verification (download.ts) under a progress bar with bytes/s and ETA, and marks the snapshot
 * complete. Offline (HF_HUB_OFFLINE=1 or `offline`), only the cache is used. Endpoint: $HF_ENDPOINT or
 * https://huggingface.co; $HF_TOKEN is sent as `Authorization: Bearer`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes } from '../models/units.ts';
import { Progress } from '../util/progress.ts';
import { cacheRoot, completeSnapshot, markComplete, snapshotDir, writeRef, type CachedFile } from './cache.ts';
import { downloadFile } from './download.ts';
import { hubGet, readBody } from './http.ts';
import { HubError, parseRepoRef } from './repo-ref.ts';
import { statusError } from './status.ts';

export interface PullOptions {
  revision?: string;
  /** Cache root (default: cacheRoot()). */
  cacheDir?: string;
  /** Use only the cache (default: HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Hub endpoint (default: $HF_ENDPOINT or https://huggingface.co). */
  endpoint?: string;
  /** Access token (default: $HF_TOKEN). */
  token?: string;
  /** No progress output. */
  silent?: boolean;
  /** Where notes (a transfer being resumed) go (default stderr). */
  log?: (line: string) => void;
}

export interface PullResult {
  dir: string;
  commit: string;
  files: CachedFile[];
  /** Bytes downloaded by this call (0 when everything was cached). */
  downloaded: number;
}

interface Sibling {
  rfilename: string;
  size?: number;
  lfs?: { sha256?: string; size?: number };
}

/** Files llmforge reads from a model repository (weights are added from the listing). */
const WANTED = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
];

export function hubOffline(opt?: boolean): boolean {
  return opt ?? ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
}

export function hubEndpoint(opt?: string): string {
  const endpoint = (opt ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint))
    throw new HubError(
      `hub endpoint ${JSON.stringify(endpoint.slice(0, 80))} (HF_ENDPOINT) is not an http(s) URL such as https://huggingface.co`,
    );
  return endpoint;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Downloads (or finds in the cache) the files of `model` (owner/name or hf://owner/name[@revision]). */
export async function pullModel(model: string, opts: PullOptions = {}): Promise<PullResult> {
  const { repo, revision } = parseRepoRef(model, opts.revision ?? 'main');
  const root = cacheRoot(opts.cacheDir);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const cached = (): PullResult | undefined => {
    const dir = completeSnapshot(root, repo, revision);
    if (dir === undefined) return undefined;
    const doc = JSON.parse(readFileSync(join(dir, '.llmforge-complete.json'), 'utf8')) as {
      commit: string;
      files: CachedFile[];
    };
    return { dir, commit: doc.commit, files: doc.files, downloaded: 0 };
  };
  if (hubOffline(opts.offline)) {
    const hit = cached();
    if (hit) return hit;
    throw new HubError(
      `${repo}@${revision}: not in the cache ${root} and offline mode is on (HF_HUB_OFFLINE=1 or --offline); pull it once while online: llmforge pull ${repo}`,
    );
  }
  const endpoint = hubEndpoint(opts.endpoint);
  const token = opts.token ?? process.env.HF_TOKEN;
  const auth = token ? `Bearer ${token}` : undefined;
  const apiUrl = `${endpoint}/api/models/${encodePath(repo)}/revision/${encodeURIComponent(revision)}`;
  let listing: { sha?: unknown; siblings?: unknown };
  try {
    const r = await hubGet(apiUrl, { accept: 'application/json' }, auth);
    if (r.status !== 200) {
      r.res.resume();
      throw statusError(r.status, `${repo}@${revision}`, apiUrl);
    }
    listing = JSON.parse(await readBody(r.res)) as typeof listing;
  } catch (e) {
    if (e instanceof HubError) throw e;
    throw new HubError(
      `${repo}: cannot reach ${endpoint} (${(e as Error).message}); to use only the cache, set HF_HUB_OFFLINE=1 or pass --offline`,
    );
  }
  if (!Array.isArray(listing.siblings)) throw new HubError(`${apiUrl}: the listing has no "siblings" array`);
  const siblings = new Map<string, Sibling>();
  for (const s of listing.siblings as Sibling[]) if (typeof s?.rfilename === 'string') siblings.set(s.rfilename, s);
  const commit =
    typeof listing.sha === 'string' && /^[0-9a-f]{7,64}$/.test(listing.sha)
      ? listing.sha
      : revision.replace(/\//g, '--');
  const dir = snapshotDir(root, repo, commit);
  writeRef(root, repo, revision, commit);
  const hit = cached();
  if (hit) return hit;

  if (!siblings.has('config.json'))
    throw new HubError(`${repo}@${revision}: the repository has no config.json (is it a model repository?)`);
  const names = WANTED.filter((f) => siblings.has(f));
  const weights = siblings.has('model.safetensors.index.json')
    ? 'model.safetensors.index.json'
    : siblings.has('model.safetensors')
      ? 'model.safetensors'
      : undefined;
  if (weights === undefined) {
    const other = [...siblings.keys()].filter((f) => /\.(bin|pt|pth|gguf|h5|msgpack)$/.test(f));
    throw new HubError(
      `${repo}@${revision}: no model.safetensors or model.safetensors.index.json${other.length ? ` (the repository has ${other.slice(0, 3).join(', ')}: only safetensors weights are read)` : ''}`,
    );
  }
  const files: CachedFile[] = [];
  let downloaded = 0;
  const fetchOne = async (name: string): Promise<void> => {
    const s = siblings.get(name);
    if (!s) throw new HubError(`${repo}@${revision}: ${name} is not in the repository listing`);
    const size = s.lfs?.size ?? s.size;
    const progress = new Progress({ label: name, total: size ?? 0, silent: opts.silent ?? false, format: formatBytes });
    const url = `${endpoint}/${encodePath(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(name)}`;
    const got = await downloadFile(url, join(dir, name), {
      size,
      sha256: s.lfs?.sha256,
      auth,
      what: `${repo}@${revision}: ${name}`,
      onProgress: (done) => progress.update(done),
      onRetry: (have, e) => {
        if (!opts.silent) log(`${name}: the transfer broke off at ${formatBytes(have)} (${e.message}); resuming`);
      },
    });
    progress.finish(got.size);
    downloaded += got.size;
    files.push({ name, size: got.size, sha256: got.sha256 });
  };
  for (const name of [...names, weights]) await fetchOne(name);
  if (weights === 'model.safetensors.index.json') {
    const index = JSON.parse(readFileSync(join(dir, weights), 'utf8')) as { weight_map?: Record<string, string> };
    const shards = [...new Set(Object.values(index.weight_map ?? {}))];
    if (shards.length === 0) throw new HubError(`${repo}@${revision}: ${weights} lists no shards in "weight_map"`);
    for (const shard of shards) await fetchOne(shard);
  }
  markComplete(dir, repo, commit, files);
  return { dir, commit, files, downloaded };
}
