/**
 * Request validation of the serve API as a table: the defaults a minimal body gets (OpenAI's, max_tokens from the
 * server), every accepted form of stop, seed, stream_options and message content, and the first bad field named
 * in the error with what was expected and received.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApiRequest, RequestError } from '../../src/serve/request.ts';

const limits = { modelId: 'm', maxNewTokens: 50 };

test("a minimal body gets OpenAI's defaults and the server's max_tokens", () => {
  assert.deepEqual(parseApiRequest('completion', { prompt: 'hi' }, limits), {
    input: { kind: 'text', prompt: 'hi' },
    maxTokens: 50,
    temperature: 1,
    topP: 1,
    topK: 0,
    repetitionPenalty: 1,
    stop: [],
    seed: undefined,
    stream: false,
    includeUsage: false,
  });
});

test('accepted forms: stop string or list, seed, stream_options, null as absent, text parts, the model id', () => {
  const r = parseApiRequest(
    'chat',
    {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
      stop: '\n',
      seed: 3,
      stream: true,
      stream_options: { include_usage: true },
      temperature: null,
      max_tokens: 7,
      top_k: 5,
      repetition_penalty: 1.2,
      n: 1,
      user: 'u',
    },
    limits,
  );
  assert.deepEqual(r, {
    input: { kind: 'chat', messages: [{ role: 'user', content: 'ab' }] },
    maxTokens: 7,
    temperature: 1,
    topP: 1,
    topK: 5,
    repetitionPenalty: 1.2,
    stop: ['\n'],
    seed: 3,
    stream: true,
    includeUsage: true,
  });
  assert.deepEqual(parseApiRequest('completion', { prompt: '', stop: ['a', 'b'] }, limits).stop, ['a', 'b']);
});

test('the first bad field is named with what was expected and received', () => {
  const table: ['completion' | 'chat', unknown, string][] = [
    ['completion', null, 'body: expected a JSON object, received null'],
    ['completion', {}, 'prompt: expected a string, received nothing'],
    [
      'completion',
      { prompt: 'x', max_tokens: 0 },
      "max_tokens: expected an integer in [1, 50] (the server's --max-new-tokens), received number 0",
    ],
    [
      'completion',
      { prompt: 'x', max_tokens: 2.5 },
      "max_tokens: expected an integer in [1, 50] (the server's --max-new-tokens), received number 2.5",
    ],
    ['completion', { prompt: 'x', top_k: -1 }, 'top_k: expected an integer >= 0 (0 = off), received number -1'],
    ['completion', { prompt: 'x', seed: 'a' }, 'seed: expected an integer in [0, 4294967295], received "a"'],
    [
      'completion',
      { prompt: 'x', seed: 2 ** 32 },
      'seed: expected an integer in [0, 4294967295], received number 4294967296',
    ],
    [
      'completion',
      { prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] },
      'stop: expected a string or an array of at most 4 strings, received an array of 5',
    ],
    [
      'completion',
      { prompt: 'x', stream_options: { include_usage: true } },
      'stream_options: expected nothing unless "stream" is true, received an object',
    ],
    [
      'completion',
      { messages: [] },
      'messages: expected no such field (accepted: prompt, model, max_tokens, temperature, top_p, top_k, repetition_penalty, stop, seed, stream, stream_options, n, user), received an array of 0',
    ],
    [
      'chat',
      { prompt: 'x' },
      'prompt: expected no such field (accepted: messages, model, max_tokens, temperature, top_p, top_k, repetition_penalty, stop, seed, stream, stream_options, n, user), received "x"',
    ],
    ['chat', { messages: ['hi'] }, 'messages[0]: expected an object {"role", "content"}, received "hi"'],
    [
      'chat',
      { messages: [{ role: 'user', content: 'a', tool_calls: [] }] },
      'messages[0].tool_calls: expected no such field (a message has role and content), received an array of 0',
    ],
    [
      'chat',
      { messages: [{ role: 'user', content: [{ type: 'image_url' }] }] },
      'messages[0].content[0]: expected a text part {"type": "text", "text": "..."}, received an object',
    ],
  ];
  for (const [kind, body, message] of table) {
    assert.throws(
      () => parseApiRequest(kind, body, limits),
      (e: unknown) => e instanceof RequestError && e.status === 400 && e.message === message,
      message,
    );
  }
});
