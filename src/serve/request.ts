/**
 * Validation of the JSON bodies of POST /v1/completions and /v1/chat/completions into one typed request: every
 * field is checked (type, range), unknown fields are rejected rather than ignored, and a mistake is a
 * `RequestError` whose message names the field, what was expected and what was received; the server answers it
 * with HTTP 400 in OpenAI's error shape. Defaults follow OpenAI's API (temperature 1, top_p 1, penalties 0, n 1).
 * What OpenAI clients routinely send is accepted with its neutral meaning: any `model` name (the server has one
 * model), `user` (ignored), `seed` (any integer, taken modulo 2^32), `stream_options` (ignored unless streaming), a
 * "developer" message (a system message). max_tokens / max_completion_tokens default to the server's
 * --max-new-tokens and are clamped to it (the generation then ends with finish_reason "length").
 */
import type { ChatMessage } from '../chat/records.ts';

export class RequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** What a completion or chat request asks for, validated. */
export interface ApiRequest {
  /** The prompt text (completions) or the conversation (chat). */
  input: { kind: 'text'; prompt: string } | { kind: 'chat'; messages: ChatMessage[] };
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  /** OpenAI frequency and presence penalties over the generated tokens, in [-2, 2]. */
  frequencyPenalty: number;
  presencePenalty: number;
  stop: string[];
  /** Choices to generate (one after another; choice i samples with seed + i). */
  n: number;
  /**
   * Log-probabilities to report: null for none, else how many most probable alternatives each token lists
   * (completions `logprobs: k`; chat `logprobs: true` with `top_logprobs: k`, default 0).
   */
  logprobs: number | null;
  /** The max_tokens / max_completion_tokens asked for when the server's limit cut it down, else null. */
  maxTokensClamped: number | null;
  /** Absent: a fresh random seed per request (sampled outputs vary, as OpenAI's do). */
  seed: number | undefined;
  stream: boolean;
  /** stream_options.include_usage: a last chunk carries the usage. */
  includeUsage: boolean;
}

export interface RequestLimits {
  /** The default max_tokens, and the largest generated (a larger request is clamped to it). */
  maxNewTokens: number;
}

/** Most choices one request may ask for (`n`); they are generated one after another. */
export const MAX_CHOICES = 16;
/** Most alternatives per token that `logprobs` / `top_logprobs` may ask for. */
export const MAX_TOP_LOGPROBS = 20;

const COMMON = [
  'model',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'repetition_penalty',
  'frequency_penalty',
  'presence_penalty',
  'logprobs',
  'stop',
  'seed',
  'stream',
  'stream_options',
  'n',
  'user',
];
const ROLES = ['system', 'user', 'assistant', 'developer'];

/** A short rendering of a received value for error messages. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return `${typeof v} ${String(v)}`;
}

function bad(field: string, expected: string, v: unknown): never {
  throw new RequestError(`${field}: expected ${expected}, received ${describe(v)}`);
}

function num(
  body: Record<string, unknown>,
  field: string,
  def: number,
  ok: (x: number) => boolean,
  expected: string,
): number {
  const v = body[field];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) bad(field, expected, v);
  return v;
}

function stopList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length > 4) bad('stop', 'a string or an array of at most 4 strings', v);
  for (const [i, s] of (list as unknown[]).entries()) {
    if (typeof s !== 'string' || s.length === 0)
      bad(typeof v === 'string' ? 'stop' : `stop[${i}]`, 'a non-empty string', s);
  }
  return list as string[];
}

function messageContent(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  // OpenAI's content parts: only text parts can be read by a text model.
  if (Array.isArray(v)) {
    return v
      .map((p: unknown, i) => {
        const part = p as { type?: unknown; text?: unknown } | null;
        if (typeof part !== 'object' || part === null || part.type !== 'text' || typeof part.text !== 'string')
          bad(`${field}[${i}]`, 'a text part {"type": "text", "text": "..."}', p);
        return part.text as string;
      })
      .join('');
  }
  return bad(field, 'a string or an array of text parts', v);
}

function messages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) bad('messages', 'a non-empty array of {"role", "content"} objects', v);
  return (v as unknown[]).map((m, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m))
      bad(`messages[${i}]`, 'an object {"role", "content"}', m);
    const o = m as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (k !== 'role' && k !== 'content' && k !== 'name')
        bad(`messages[${i}].${k}`, 'no such field (a message has role and content)', o[k]);
    if (typeof o.role !== 'string' || !ROLES.includes(o.role))
      bad(`messages[${i}].role`, `one of ${ROLES.join(', ')}`, o.role);
    // OpenAI's newer name for the system message.
    const role = o.role === 'developer' ? 'system' : (o.role as string);
    return { role, content: messageContent(o.content, `messages[${i}].content`) };
  });
}

/** An integer taken modulo 2^32, in [0, 2^32). */
function uint32(x: number): number {
  const r = x % 2 ** 32;
  return r < 0 ? r + 2 ** 32 : r + 0; // + 0: no -0
}

/** Parses a request body (already JSON-decoded) for `kind`; throws a RequestError on the first bad field. */
export function parseApiRequest(kind: 'completion' | 'chat', body: unknown, limits: RequestLimits): ApiRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('body', 'a JSON object', body);
  const b = body as Record<string, unknown>;
  const inputField = kind === 'completion' ? 'prompt' : 'messages';
  const known = [inputField, ...COMMON, ...(kind === 'chat' ? ['top_logprobs'] : [])];
  for (const k of Object.keys(b)) if (!known.includes(k)) bad(k, `no such field (accepted: ${known.join(', ')})`, b[k]);
  // Any model name is answered by the one loaded model.
  if (b.model !== undefined && b.model !== null && typeof b.model !== 'string') bad('model', 'a string', b.model);
  if (b.user !== undefined && b.user !== null && typeof b.user !== 'string') bad('user', 'a string', b.user);
  const n = num(
    b,
    'n',
    1,
    (x) => Number.isInteger(x) && x >= 1 && x <= MAX_CHOICES,
    `an integer in [1, ${MAX_CHOICES}] (choices are generated one after another)`,
  );
  let input: ApiRequest['input'];
  if (kind === 'completion') {
    if (typeof b.prompt !== 'string') bad('prompt', 'a string', b.prompt);
    input = { kind: 'text', prompt: b.prompt as string };
  } else {
    input = { kind: 'chat', messages: messages(b.messages) };
  }
  const max = limits.maxNewTokens;
  const asked = ['max_tokens', 'max_completion_tokens'].map((f) =>
    num(b, f, Infinity, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1'),
  );
  const askedMax = Math.min(...asked);
  const maxTokens = Math.min(askedMax, max);
  const temperature = num(b, 'temperature', 1, (x) => x >= 0 && x <= 2, 'a number in [0, 2] (0 = greedy)');
  const topP = num(b, 'top_p', 1, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  const topK = num(b, 'top_k', 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0 (0 = off)');
  const repetitionPenalty = num(b, 'repetition_penalty', 1, (x) => x > 0, 'a number > 0 (1 = off)');
  const penalty = (f: string) => num(b, f, 0, (x) => x >= -2 && x <= 2, 'a number in [-2, 2] (0 = off)');
  const frequencyPenalty = penalty('frequency_penalty');
  const presencePenalty = penalty('presence_penalty');
  const seed =
    b.seed === undefined || b.seed === null ? undefined : uint32(num(b, 'seed', 0, Number.isInteger, 'an integer'));
  const topCount = (f: string) =>
    num(
      b,
      f,
      0,
      (x) => Number.isInteger(x) && x >= 0 && x <= MAX_TOP_LOGPROBS,
      `an integer in [0, ${MAX_TOP_LOGPROBS}] (alternatives listed per token)`,
    );
  let logprobs: number | null = null;
  if (kind === 'completion') {
    if (b.logprobs !== undefined && b.logprobs !== null) logprobs = topCount('logprobs');
  } else {
    if (b.logprobs !== undefined && b.logprobs !== null && typeof b.logprobs !== 'boolean')
      bad('logprobs', 'true or false', b.logprobs);
    const wanted = b.logprobs === true;
    if (!wanted && b.top_logprobs !== undefined && b.top_logprobs !== null)
      bad('top_logprobs', 'nothing unless "logprobs" is true', b.top_logprobs);
    if (wanted) logprobs = topCount('top_logprobs');
  }
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean')
    bad('stream', 'true or false', b.stream);
  const stream = b.stream === true;
  let includeUsage = false;
  if (b.stream_options !== undefined && b.stream_options !== null) {
    const so = b.stream_options as Record<string, unknown>;
    const fields = ['include_usage', 'include_obfuscation']; // obfuscation padding: not sent (nothing to hide here)
    if (typeof so !== 'object' || Array.isArray(so) || Object.keys(so).some((k) => !fields.includes(k)))
      bad('stream_options', 'an object {"include_usage": true|false}', so);
    for (const f of fields)
      if (so[f] !== undefined && so[f] !== null && typeof so[f] !== 'boolean')
        bad(`stream_options.${f}`, 'true or false', so[f]);
    includeUsage = stream && so.include_usage === true; // without a stream the usage is in the response anyway
  }
  return {
    input,
    maxTokens,
    temperature,
    topP,
    topK,
    repetitionPenalty,
    frequencyPenalty,
    presencePenalty,
    stop: stopList(b.stop),
    n,
    logprobs,
    maxTokensClamped: askedMax > max && askedMax !== Infinity ? askedMax : null,
    seed,
    stream,
    includeUsage,
  };
}
