/** HTTP failures of the hub as one clear line each: what failed, why it probably did, and what to do. */
import { HubError } from './repo-ref.ts';

export function statusError(status: number, what: string, url: string): HubError {
  if (status === 401 || status === 403) {
    return new HubError(
      `${what}: access denied (HTTP ${status}) at ${url}. The model may be gated or private: accept its terms on its ` +
        'hub page, then set HF_TOKEN to an access token of that account (huggingface.co/settings/tokens)' +
        (process.env.HF_TOKEN ? '; the HF_TOKEN that was sent is not allowed to read it' : ''),
    );
  }
  if (status === 404)
    return new HubError(
      `${what}: not found (HTTP 404) at ${url}; check the owner/name and the revision (a private model also needs HF_TOKEN)`,
    );
  return new HubError(`${what}: HTTP ${status} at ${url}`);
}
