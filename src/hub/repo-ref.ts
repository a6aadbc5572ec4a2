/**
 * Naming a model on the Hugging Face hub: `owner/name`, optionally `hf://owner/name` and `@revision`
 * (`hf://Qwen/Qwen2-0.5B@main`). `hf://` marks a hub model wherever llmforge takes a model path.
 */
import { UserError } from '../util/user-error.ts';

export class HubError extends UserError {}

export const HUB_SCHEME = 'hf://';

export interface RepoRef {
  /** owner/name */
  repo: string;
  revision: string;
}

const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isHubRef(path: string): boolean {
  return path.startsWith(HUB_SCHEME);
}

/** Parses `owner/name`, `hf://owner/name` or either with `@revision`; `revision` is the default revision. */
export function parseRepoRef(text: string, revision = 'main'): RepoRef {
  let rest = text.startsWith(HUB_SCHEME) ? text.slice(HUB_SCHEME.length) : text;
  const at = rest.indexOf('@');
  if (at >= 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const parts = rest.split('/');
  if (parts.length !== 2 || !parts.every((p) => PART.test(p) && !p.includes('..'))) {
    throw new HubError(
      `"${text}": expected a hub model as owner/name (e.g. openai-community/gpt2), optionally hf:// before it and @revision after it`,
    );
  }
  if (revision === '' || revision.includes('..') || !/^[A-Za-z0-9._/-]+$/.test(revision))
    throw new HubError(`"${text}": invalid revision "${revision}"`);
  return { repo: rest, revision };
}
