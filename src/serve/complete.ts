/**
 * Answering one validated completion or chat request: the prompt is encoded as `generate` encodes it (an empty
 * prompt starts from EOS) or the conversation as `chat` renders it through the template (encodePrompt), the request
 * waits its turn in the queue, and the generation's text goes back whole or streamed as Server-Sent Events pieces
 * (TextStream inside generate never splits a UTF-8 character; stop strings are held back until they can no longer
 * match). A prompt longer than the model's context is cropped from the left, as `generate` does (the note goes to
 * the request's log line; usage still counts every prompt token sent). Generation ends at EOS, a stop string or
 * max_tokens; the context slides when it fills.
 */
import { randomInt } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { encodePrompt } from '../chat/encode.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import type { GenerateOptions } from '../generate/generate.ts';
import { promptIds } from '../generate/predict.ts';
import type { LanguageModel } from '../models/model.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { runGeneration, type GenerationQueue } from './generation-queue.ts';
import { chunk, errorBody, finishReason, fullResponse, newHead, usage, type Kind } from './openai-shapes.ts';
import { RequestError, type ApiRequest } from './request.ts';
import { endEvents, sendEvent, startEvents } from './sse.ts';
import { UserError } from '../util/user-error.ts';

export interface ServeContext {
  model: LanguageModel;
  tokenizer: TextTokenizer;
  template: PromptTemplate;
  /** The tokenizer's end-of-sequence id; chat needs one. */
  eosId: number | undefined;
  modelId: string;
  queue: GenerationQueue;
}

/** What the request log line reports. */
export interface CompletionStats {
  promptTokens: number;
  completionTokens: number;
  /** finish_reason, or 'aborted' when the client left (or the server stopped) first. */
  outcome: 'stop' | 'length' | 'aborted';
  notes: string[];
}

function encodeInput(ctx: ServeContext, req: ApiRequest): number[] {
  const field = req.input.kind === 'text' ? 'prompt' : 'messages';
  try {
    if (req.input.kind === 'text') return promptIds(ctx.tokenizer, req.input.prompt);
    if (ctx.eosId === undefined) {
      throw new RequestError(
        "messages: this model's tokenizer has no end-of-sequence token, so a chat reply could not end by itself; use /v1/completions",
      );
    }
    return encodePrompt(ctx.tokenizer, ctx.template, { kind: 'chat', messages: req.input.messages }, ctx.eosId);
  } catch (e) {
    if (e instanceof RequestError || !(e instanceof UserError)) throw e;
    throw new RequestError(`${field}: ${(e as Error).message}`);
  }
}

/** Generates the answer to `req` and writes it to `res` (JSON, or events when req.stream); `signal` aborts it. */
export async function complete(
  ctx: ServeContext,
  kind: Kind,
  req: ApiRequest,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<CompletionStats> {
  const ids = encodeInput(ctx, req);
  const head = newHead(kind, ctx.modelId);
  const notes: string[] = [];
  const opts: GenerateOptions = {
    maxNewTokens: req.maxTokens,
    temperature: req.temperature,
    topP: req.topP,
    topK: req.topK,
    repetitionPenalty: req.repetitionPenalty,
    seed: req.seed ?? randomInt(2 ** 31),
    tokenizer: ctx.tokenizer,
    stop: req.stop,
    onNote: (m) => notes.push(m),
    ...(ctx.eosId !== undefined ? { eosId: ctx.eosId } : {}),
    ...(req.stream ? { onText: (text: string) => sendEvent(res, chunk(kind, head, text, null)) } : {}),
  };
  const result = await ctx.queue.run(async () => {
    if (req.stream && !signal.aborted) {
      startEvents(res);
      if (kind === 'chat') sendEvent(res, chunk(kind, head, '', null, { first: true }));
    }
    return runGeneration(ctx.model, ids, opts, signal);
  });
  const s = result.summary;
  if (s === null) {
    // The client left (nothing more to send) or the server is stopping (the response ends unfinished).
    if (res.destroyed) {
      // nobody to answer
    } else if (!res.headersSent) {
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify(errorBody('server: stopping; the request was not completed', 'server_error')));
    } else {
      endEvents(res);
    }
    return { promptTokens: ids.length, completionTokens: result.tokens, outcome: 'aborted', notes };
  }
  const finish = finishReason(s.stopReason);
  const u = usage(ids.length, s.ids.length);
  if (req.stream) {
    sendEvent(res, chunk(kind, head, '', finish));
    if (req.includeUsage) sendEvent(res, chunk(kind, head, '', null, { usage: u }));
    endEvents(res);
  } else {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(fullResponse(kind, head, s.text, finish, u)));
  }
  return { promptTokens: ids.length, completionTokens: s.ids.length, outcome: finish, notes };
}
