/**
 * `hf://owner/name[@revision]` wherever llmforge takes a model path: `resolveHubModelSync` returns the cached
 * snapshot directory, pulling it first when it is not complete in the cache. Model loading is synchronous, so the
 * pull runs as a child `llmforge pull` (its progress bar on stderr) while this process waits; offline mode
 * (HF_HUB_OFFLINE=1) never starts one and fails with a clear error when the cache lacks the model.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cacheRoot, completeSnapshot } from './cache.ts';
import { hubOffline } from './pull.ts';
import { HubError, parseRepoRef } from './repo-ref.ts';

export function resolveHubModelSync(ref: string): string {
  const { repo, revision } = parseRepoRef(ref);
  const root = cacheRoot();
  const hit = completeSnapshot(root, repo, revision);
  if (hit) return hit;
  if (hubOffline()) {
    throw new HubError(
      `${ref}: not in the cache ${root} and offline mode is on (HF_HUB_OFFLINE=1); pull it once while online: llmforge pull ${repo}`,
    );
  }
  // The CLI beside this module: compiled (dist/) plain node runs it; from the sources bin/llmforge.js loads tsx first.
  const bin = fileURLToPath(
    new URL(import.meta.url.endsWith('.ts') ? '../../bin/llmforge.js' : '../cli/main.js', import.meta.url),
  );
  const r = spawnSync(process.execPath, [bin, 'pull', repo, '--revision', revision], { stdio: ['ignore', 2, 2] });
  if (r.status !== 0)
    throw new HubError(`${ref}: the download did not complete (${r.error?.message ?? 'see the error above'})`);
  const dir = completeSnapshot(root, repo, revision);
  if (dir === undefined)
    throw new HubError(`${ref}: llmforge pull finished but ${root} holds no complete snapshot of ${repo}@${revision}`);
  return dir;
}
