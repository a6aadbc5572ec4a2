/**
 * The llmforge hub cache. Root: $LLMFORGE_CACHE, else $XDG_CACHE_HOME/llmforge/hub, else ~/.cache/llmforge/hub.
 * Layout, as Hugging Face's own cache: `models--owner--name/refs/<revision>` holds the commit the revision
 * pointed to, `models--owner--name/snapshots/<commit>/` the files, downloads in progress as `<file>.incomplete`
 * beside them, and `.llmforge-complete.json` (files, sizes, hashes) written last, once every file is verified.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';

export const COMPLETE_FILE = '.llmforge-complete.json';

export interface CachedFile {
  name: string;
  size: number;
  sha256?: string;
}

/** The cache root (see the file comment); `override` (--cache-dir) wins. */
export function cacheRoot(override?: string): string {
  if (override) return override;
  const env = process.env.LLMFORGE_CACHE;
  if (env) return env;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'llmforge', 'hub');
}

export function repoDir(root: string, repo: string): string {
  return join(root, `models--${repo.replace('/', '--')}`);
}

export function snapshotDir(root: string, repo: string, commit: string): string {
  return join(repoDir(root, repo), 'snapshots', commit);
}

/** The commit a revision pointed to when last pulled, or undefined. */
export function readRef(root: string, repo: string, revision: string): string | undefined {
  const path = join(repoDir(root, repo), 'refs', revision);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

export function writeRef(root: string, repo: string, revision: string, commit: string): void {
  writeFileAtomic(join(repoDir(root, repo), 'refs', revision), commit);
}

/** The snapshot directory of `revision` when it was pulled completely, else undefined. */
export function completeSnapshot(root: string, repo: string, revision: string): string | undefined {
  const commit = readRef(root, repo, revision) ?? (/^[0-9a-f]{40}$/.test(revision) ? revision : undefined);
  if (commit === undefined) return undefined;
  const dir = snapshotDir(root, repo, commit);
  return existsSync(join(dir, COMPLETE_FILE)) ? dir : undefined;
}

export function markComplete(dir: string, repo: string, commit: string, files: CachedFile[]): void {
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, COMPLETE_FILE), { repo, commit, files });
}
