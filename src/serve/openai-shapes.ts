/**
 * The JSON objects of OpenAI's completions API that the server sends: whole responses ("text_completion",
 * "chat.completion") with one entry per choice, streamed chunks ("...chunk" objects, one per piece of text of one
 * choice, then one with its finish reason), the usage block, the log-probabilities in each API's own shape (chat:
 * `logprobs.content[]` of {token, logprob, bytes, top_logprobs}; completions: parallel arrays tokens,
 * token_logprobs, top_logprobs, text_offset), the model list and the error body. Generation's stop reasons map to
 * finish_reason: the EOS token or a stop string is "stop", the token limit (or a full context) is "length".
 */
import { randomBytes } from 'node:crypto';
import type { StopReason } from '../generate/generate.ts';
import type { TokenLogprob } from './logprobs.ts';

export type Kind = 'completion' | 'chat';
export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What every object of one response shares: its id, creation time (Unix seconds) and model id. */
export interface ResponseHead {
  id: string;
  created: number;
  model: string;
}

/** One finished choice of a whole response. */
export interface Choice {
  text: string;
  finish: FinishReason;
  /** null when the request asked for no log-probabilities. */
  logprobs: TokenLogprob[] | null;
}

export function newHead(kind: Kind, model: string): ResponseHead {
  return {
    id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
}

export function finishReason(r: StopReason): FinishReason {
  return r === 'eos' || r === 'stop' ? 'stop' : 'length';
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** The `logprobs` object of a choice or chunk, in the shape of `kind`'s API; null for none. */
export function logprobsShape(kind: Kind, entries: readonly TokenLogprob[] | null): object | null {
  if (entries === null) return null;
  if (kind === 'chat') {
    return {
      content: entries.map((e) => ({
        token: e.token,
        logprob: e.logprob,
        bytes: e.bytes,
        top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })),
      })),
      refusal: null,
    };
  }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    // A map from token text to log-probability; two ids with the same text keep the more probable one.
    top_logprobs: entries.map((e) => {
      const m: Record<string, number> = {};
      for (const t of e.top) if (!(t.token in m)) m[t.token] = t.logprob;
      return m;
    }),
    text_offset: entries.map((e) => e.textOffset),
  };
}

/** The fields every response object starts with, in OpenAI's order. */
function opening(head: ResponseHead, object: string): object {
  return { id: head.id, object, created: head.created, model: head.model };
}

/** A whole (non-streamed) response. */
export function fullResponse(kind: Kind, head: ResponseHead, choices: readonly Choice[], u: Usage): object {
  const entries = choices.map((c, index) =>
    kind === 'chat'
      ? {
          index,
          message: { role: 'assistant', content: c.text },
          logprobs: logprobsShape(kind, c.logprobs),
          finish_reason: c.finish,
        }
      : { index, text: c.text, logprobs: logprobsShape(kind, c.logprobs), finish_reason: c.finish },
  );
  return { ...opening(head, kind === 'chat' ? 'chat.completion' : 'text_completion'), choices: entries, usage: u };
}

/**
 * One streamed chunk of choice `opts.index` (default 0): a piece of text (finish null), or the closing chunk (text
 * '' and the finish reason). A chat stream's first chunk of a choice carries the role (`first`); `logprobs` are the
 * entries of the tokens whose text this chunk completes. With `usage`, the usage-only chunk of
 * stream_options.include_usage.
 */
export function chunk(
  kind: Kind,
  head: ResponseHead,
  text: string,
  finish: FinishReason | null,
  opts: { first?: boolean; usage?: Usage; index?: number; logprobs?: readonly TokenLogprob[] | null } = {},
): object {
  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  if (opts.usage) return { ...opening(head, object), choices: [], usage: opts.usage };
  const index = opts.index ?? 0;
  const logprobs = logprobsShape(kind, opts.logprobs ?? null);
  if (kind === 'chat') {
    const delta =
      finish !== null && text === '' ? {} : opts.first ? { role: 'assistant', content: text } : { content: text };
    return { ...opening(head, object), choices: [{ index, delta, logprobs, finish_reason: finish }] };
  }
  return { ...opening(head, object), choices: [{ index, text, logprobs, finish_reason: finish }] };
}

export function modelList(id: string, created: number): object {
  return { object: 'list', data: [{ id, object: 'model', created, owned_by: 'llmforge' }] };
}

export function errorBody(message: string, type: 'invalid_request_error' | 'server_error'): object {
  return { error: { message, type, param: null, code: null } };
}
