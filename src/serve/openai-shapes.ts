/**
 * The JSON objects of OpenAI's completions API that the server sends: whole responses ("text_completion",
 * "chat.completion"), streamed chunks ("...chunk" objects, one per piece of text, then one with the finish reason),
 * the usage block, the model list and the error body. Generation's stop reasons map to finish_reason: the EOS token
 * or a stop string is "stop", the token limit (or a full context) is "length".
 */
import { randomBytes } from 'node:crypto';
import type { StopReason } from '../generate/generate.ts';

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

/** The fields every response object starts with, in OpenAI's order. */
function opening(head: ResponseHead, object: string): object {
  return { id: head.id, object, created: head.created, model: head.model };
}

/** A whole (non-streamed) response. */
export function fullResponse(kind: Kind, head: ResponseHead, text: string, finish: FinishReason, u: Usage): object {
  const choice =
    kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }
      : { index: 0, text, logprobs: null, finish_reason: finish };
  return { ...opening(head, kind === 'chat' ? 'chat.completion' : 'text_completion'), choices: [choice], usage: u };
}

/**
 * One streamed chunk: a piece of text (finish null), or the closing chunk (text '' and the finish reason). A chat
 * stream's first chunk carries the role (`first`). With `u`, the usage-only chunk of stream_options.include_usage.
 */
export function chunk(
  kind: Kind,
  head: ResponseHead,
  text: string,
  finish: FinishReason | null,
  opts: { first?: boolean; usage?: Usage } = {},
): object {
  const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  if (opts.usage) return { ...opening(head, object), choices: [], usage: opts.usage };
  if (kind === 'chat') {
    const delta =
      finish !== null && text === '' ? {} : opts.first ? { role: 'assistant', content: text } : { content: text };
    return { ...opening(head, object), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  }
  return { ...opening(head, object), choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] };
}

export function modelList(id: string, created: number): object {
  return { object: 'list', data: [{ id, object: 'model', created, owned_by: 'llmforge' }] };
}

export function errorBody(message: string, type: 'invalid_request_error' | 'server_error'): object {
  return { error: { message, type, param: null, code: null } };
}
