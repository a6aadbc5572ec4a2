/**
 * Answering one validated completion or chat request: the prompt is encoded as `generate` encodes it (an empty
 * prompt starts from EOS) or the conversation as `chat` renders it through the template (encodePrompt), the request
 * waits its turn in the queue, and the generation's text goes back whole or streamed as Server-Sent Events pieces
 * (TextStream inside generate never splits a UTF-8 character; stop strings are held back until they can no longer
 * match). A prompt longer than the model's context is cropped from the left, as `generate` does (the note goes to
 * the request's log line; usage still counts every prompt token sent). Generation ends at EOS, a stop string or
 * max_tokens; the context slides when it fills. `n` choices are generated one after another in one turn of the
 * queue (choice i samples with seed + i); with `logprobs` each generated token's log-probability and alternatives
 * come with the text (see logprobs.ts; streamed with the chunk that completes the token's text, the tokens of a
 * stop string in the closing chunk).
 */
import { randomInt } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { encodePrompt } from '../chat/encode.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import type { GenerateOptions } from '../generate/generate.ts';
import { promptIds } from '../generate/predict.ts';
import { TextStream } from '../generate/text-stream.ts';
import type { LanguageModel } from '../models/model.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { runGeneration, type GenerationQueue, type GenerationResult } from './generation-queue.ts';
import { codePoints, tokenLogprob, type TokenLogprob } from './logprobs.ts';
import {
  chunk,
  errorBody,
  finishReason,
  fullResponse,
  newHead,
  usage,
  type Choice,
  type Kind,
  type ResponseHead,
} from './openai-shapes.ts';
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

/** One choice generated (and, when streaming, sent) for `req`; a null summary when aborted. */
function generateChoice(
  ctx: ServeContext,
  kind: Kind,
  req: ApiRequest,
  ids: number[],
  index: number,
  seed: number,
  stream: { res: ServerResponse; head: ResponseHead } | null,
  notes: string[],
  signal: AbortSignal,
): { result: Promise<GenerationResult>; logprobs: TokenLogprob[] | null; pending: TokenLogprob[] } {
  const logprobs: TokenLogprob[] | null = req.logprobs === null ? null : [];
  const pending: TokenLogprob[] = []; // entries whose text has not been streamed yet
  let onToken: GenerateOptions['onToken'];
  if (logprobs !== null) {
    // Offsets count characters of prompt + completion, as decoded text grows (a split character counts once complete).
    const offsets = new TextStream(ctx.tokenizer);
    let offset = req.input.kind === 'text' ? codePoints(req.input.prompt) : 0;
    onToken = (id, logits) => {
      const entry = tokenLogprob(ctx.tokenizer, logits, id, req.logprobs!, offset);
      offset += codePoints(offsets.push(id));
      logprobs.push(entry);
      if (stream) pending.push(entry);
    };
  }
  const opts: GenerateOptions = {
    maxNewTokens: req.maxTokens,
    temperature: req.temperature,
    topP: req.topP,
    topK: req.topK,
    repetitionPenalty: req.repetitionPenalty,
    frequencyPenalty: req.frequencyPenalty,
    presencePenalty: req.presencePenalty,
    seed,
    tokenizer: ctx.tokenizer,
    stop: req.stop,
    onNote: (m) => {
      if (!notes.includes(m)) notes.push(m);
    },
    ...(onToken ? { onToken } : {}),
    ...(ctx.eosId !== undefined ? { eosId: ctx.eosId } : {}),
    ...(stream
      ? {
          onText: (text: string) =>
            sendEvent(
              stream.res,
              chunk(kind, stream.head, text, null, { index, logprobs: logprobs === null ? null : pending.splice(0) }),
            ),
        }
      : {}),
  };
  return { result: runGeneration(ctx.model, ids, opts, signal), logprobs, pending };
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
  if (req.maxTokensClamped !== null)
    notes.push(`max_tokens ${req.maxTokensClamped} clamped to the server's limit of ${req.maxTokens}`);
  const base = req.seed ?? randomInt(2 ** 31);
  const stream = req.stream ? { res, head } : null;
  const choices: Choice[] = [];
  let generated = 0;
  const finished = await ctx.queue.run(async () => {
    if (stream && !signal.aborted) startEvents(res);
    for (let index = 0; index < req.n; index++) {
      if (stream && kind === 'chat') sendEvent(res, chunk(kind, head, '', null, { first: true, index }));
      const seed = (base + index) % 2 ** 32;
      const run = generateChoice(ctx, kind, req, ids, index, seed, stream, notes, signal);
      const { summary, tokens } = await run.result;
      generated += tokens;
      if (summary === null) return false;
      const finish = finishReason(summary.stopReason);
      choices.push({ text: summary.text, finish, logprobs: run.logprobs });
      if (stream) {
        const rest = run.logprobs === null || run.pending.length === 0 ? null : run.pending.splice(0);
        sendEvent(res, chunk(kind, head, '', finish, { index, logprobs: rest }));
      }
    }
    return true;
  });
  if (!finished) {
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
    return { promptTokens: ids.length, completionTokens: generated, outcome: 'aborted', notes };
  }
  const u = usage(ids.length, generated);
  if (stream) {
    if (req.includeUsage) sendEvent(res, chunk(kind, head, '', null, { usage: u }));
    endEvents(res);
  } else {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(fullResponse(kind, head, choices, u)));
  }
  if (choices.length > 1) notes.push(`${choices.length} choices: finish ${choices.map((c) => c.finish).join(', ')}`);
  const outcome = choices.some((c) => c.finish === 'length') ? 'length' : 'stop';
  return { promptTokens: ids.length, completionTokens: generated, outcome, notes };
}
