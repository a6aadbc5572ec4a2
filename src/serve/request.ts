/**
 * Validation of the JSON bodies of POST /v1/completions and /v1/chat/completions into one typed request: every
 * field is checked (type, range, the one loaded model's id), unknown fields are rejected rather than ignored, and
 * a mistake is a `RequestError` whose message names the field, what was expected and what was received; the
 * server answers it with HTTP 400 in OpenAI's error shape. Defaults follow OpenAI's API (temperature 1, top_p 1),
 * except max_tokens, which defaults to the server's --max-new-tokens and may not exceed it.
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
  stop: string[];
  /** Absent: a fresh random seed per request (sampled outputs vary, as OpenAI's do). */
  seed: number | undefined;
  stream: boolean;
  /** stream_options.include_usage: a last chunk carries the usage. */
  includeUsage: boolean;
}

export interface RequestLimits {
  /** The loaded model's id (a request's "model", when given, must equal it). */
  modelId: string;
  /** Largest max_tokens accepted, and its default. */
  maxNewTokens: number;
}

const COMMON = [
  'model',
  'max_tokens',
  'temperature',
  'top_p',
  'top_k',
  'repetition_penalty',
  'stop',
  'seed',
  'stream',
  'stream_options',
  'n',
  'user',
];
const ROLES = ['system', 'user', 'assistant'];

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
    return { role: o.role as string, content: messageContent(o.content, `messages[${i}].content`) };
  });
}

/** Parses a request body (already JSON-decoded) for `kind`; throws a RequestError on the first bad field. */
export function parseApiRequest(kind: 'completion' | 'chat', body: unknown, limits: RequestLimits): ApiRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad('body', 'a JSON object', body);
  const b = body as Record<string, unknown>;
  const inputField = kind === 'completion' ? 'prompt' : 'messages';
  const known = [inputField, ...COMMON];
  for (const k of Object.keys(b)) if (!known.includes(k)) bad(k, `no such field (accepted: ${known.join(', ')})`, b[k]);
  if (b.model !== undefined && b.model !== limits.modelId)
    bad('model', `"${limits.modelId}" (the one model this server has loaded)`, b.model);
  if (b.n !== undefined && b.n !== null && b.n !== 1) bad('n', '1 (one choice per request)', b.n);
  if (b.user !== undefined && typeof b.user !== 'string') bad('user', 'a string', b.user);
  let input: ApiRequest['input'];
  if (kind === 'completion') {
    if (typeof b.prompt !== 'string') bad('prompt', 'a string', b.prompt);
    input = { kind: 'text', prompt: b.prompt as string };
  } else {
    input = { kind: 'chat', messages: messages(b.messages) };
  }
  const max = limits.maxNewTokens;
  const maxTokens = num(
    b,
    'max_tokens',
    max,
    (x) => Number.isInteger(x) && x >= 1 && x <= max,
    `an integer in [1, ${max}] (the server's --max-new-tokens)`,
  );
  const temperature = num(b, 'temperature', 1, (x) => x >= 0 && x <= 2, 'a number in [0, 2] (0 = greedy)');
  const topP = num(b, 'top_p', 1, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  const topK = num(b, 'top_k', 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0 (0 = off)');
  const repetitionPenalty = num(b, 'repetition_penalty', 1, (x) => x > 0, 'a number > 0 (1 = off)');
  const seed =
    b.seed === undefined || b.seed === null
      ? undefined
      : num(b, 'seed', 0, (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff, 'an integer in [0, 4294967295]');
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean')
    bad('stream', 'true or false', b.stream);
  const stream = b.stream === true;
  let includeUsage = false;
  if (b.stream_options !== undefined && b.stream_options !== null) {
    const so = b.stream_options as Record<string, unknown>;
    if (!stream) bad('stream_options', 'nothing unless "stream" is true', so);
    if (typeof so !== 'object' || Array.isArray(so) || Object.keys(so).some((k) => k !== 'include_usage'))
      bad('stream_options', 'an object {"include_usage": true|false}', so);
    if (so.include_usage !== undefined && typeof so.include_usage !== 'boolean')
      bad('stream_options.include_usage', 'true or false', so.include_usage);
    includeUsage = so.include_usage === true;
  }
  return {
    input,
    maxTokens,
    temperature,
    topP,
    topK,
    repetitionPenalty,
    stop: stopList(b.stop),
    seed,
    stream,
    includeUsage,
  };
}
