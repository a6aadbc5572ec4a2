/**
 * Request validation of the serve API as a table: the defaults a minimal body gets (OpenAI's, max_tokens from the
 * server), every accepted form of stop, seed, stream_options and message content, what OpenAI clients routinely
 * send accepted with its neutral meaning (any model name, user, n, penalties, logprobs, max_completion_tokens,
 * max_tokens clamped to the server's limit), and the first bad field named in the error with what was expected and
 * received.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApiRequest, RequestError } from '../../src/serve/request.ts';

const limits = { maxNewTokens: 50 };

test("a minimal body gets OpenAI's defaults and the server's max_tokens", () => {
  assert.deepEqual(parseApiRequest('completion', { prompt: 'hi' }, limits), {
    input: { kind: 'text', prompt: 'hi' },
    maxTokens: 50,
    temperature: 1,
    topP: 1,
    topK: 0,
    repetitionPenalty: 1,
    frequencyPenalty: 0,
    presencePenalty: 0,
    stop: [],
    n: 1,
    logprobs: null,
    maxTokensClamped: null,
    seed: undefined,
    stream: false,
    includeUsage: false,
  });
});

test('what OpenAI clients send is accepted: any model, user, n, penalties, logprobs, max_completion_tokens', () => {
  const chat = parseApiRequest(
    'chat',
    {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      frequency_penalty: 0.5,
      presence_penalty: -1,
      logprobs: true,
      top_logprobs: 3,
      max_completion_tokens: 500,
      n: 3,
      seed: -1,
      user: 'someone',
      stream: false,
      stream_options: { include_usage: true },
    },
    limits,
  );
  assert.deepEqual(chat.input, {
    kind: 'chat',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ],
  });
  assert.deepEqual(
    [chat.frequencyPenalty, chat.presencePenalty, chat.logprobs, chat.n, chat.seed, chat.includeUsage],
    [0.5, -1, 3, 3, 2 ** 32 - 1, false],
  );
  // Clamped to the server's limit; the asked value is kept for the log line.
  assert.deepEqual([chat.maxTokens, chat.maxTokensClamped], [50, 500]);
  assert.equal(
    parseApiRequest('chat', { messages: [{ role: 'user', content: 'x' }], logprobs: true }, limits).logprobs,
    0,
  );
  assert.equal(
    parseApiRequest('chat', { messages: [{ role: 'user', content: 'x' }], logprobs: false }, limits).logprobs,
    null,
  );
  const c = parseApiRequest(
    'completion',
    { prompt: 'x', logprobs: 2, max_tokens: 9, max_completion_tokens: 12 },
    limits,
  );
  assert.deepEqual([c.logprobs, c.maxTokens, c.maxTokensClamped], [2, 9, null]);
  assert.equal(parseApiRequest('completion', { prompt: 'x', seed: 2 ** 32 + 5 }, limits).seed, 5);
  assert.equal(
    parseApiRequest('completion', { prompt: 'x', stream: true, stream_options: { include_obfuscation: false } }, limits)
      .includeUsage,
    false,
  );
});

test('accepted forms: stop string or list, seed, stream_options, null as absent, text parts, the model id', () => {
  const r = parseApiRequest(
    'chat',
    {
      model: 'anything',
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
    frequencyPenalty: 0,
    presencePenalty: 0,
    stop: ['\n'],
    n: 1,
    logprobs: null,
    maxTokensClamped: null,
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
    ['completion', { prompt: 'x', max_tokens: 0 }, 'max_tokens: expected an integer >= 1, received number 0'],
    ['completion', { prompt: 'x', max_tokens: 2.5 }, 'max_tokens: expected an integer >= 1, received number 2.5'],
    [
      'chat',
      { messages: [{ role: 'user', content: 'x' }], max_completion_tokens: -3 },
      'max_completion_tokens: expected an integer >= 1, received number -3',
    ],
    [
      'completion',
      { prompt: 'x', frequency_penalty: 2.5 },
      'frequency_penalty: expected a number in [-2, 2] (0 = off), received number 2.5',
    ],
    [
      'completion',
      { prompt: 'x', presence_penalty: '1' },
      'presence_penalty: expected a number in [-2, 2] (0 = off), received "1"',
    ],
    [
      'completion',
      { prompt: 'x', n: 17 },
      'n: expected an integer in [1, 16] (choices are generated one after another), received number 17',
    ],
    [
      'completion',
      { prompt: 'x', n: 0 },
      'n: expected an integer in [1, 16] (choices are generated one after another), received number 0',
    ],
    [
      'completion',
      { prompt: 'x', logprobs: 21 },
      'logprobs: expected an integer in [0, 20] (alternatives listed per token), received number 21',
    ],
    [
      'completion',
      { prompt: 'x', logprobs: true },
      'logprobs: expected an integer in [0, 20] (alternatives listed per token), received boolean true',
    ],
    [
      'chat',
      { messages: [{ role: 'user', content: 'x' }], logprobs: 3 },
      'logprobs: expected true or false, received number 3',
    ],
    [
      'chat',
      { messages: [{ role: 'user', content: 'x' }], top_logprobs: 3 },
      'top_logprobs: expected nothing unless "logprobs" is true, received number 3',
    ],
    [
      'chat',
      { messages: [{ role: 'user', content: 'x' }], logprobs: true, top_logprobs: 30 },
      'top_logprobs: expected an integer in [0, 20] (alternatives listed per token), received number 30',
    ],
    ['completion', { prompt: 'x', model: 7 }, 'model: expected a string, received number 7'],
    [
      'completion',
      { prompt: 'x', top_logprobs: 2 },
      'top_logprobs: expected no such field (accepted: prompt, model, max_tokens, max_completion_tokens, temperature, top_p, top_k, repetition_penalty, frequency_penalty, presence_penalty, logprobs, stop, seed, stream, stream_options, n, user), received number 2',
    ],
    ['completion', { prompt: 'x', top_k: -1 }, 'top_k: expected an integer >= 0 (0 = off), received number -1'],
    ['completion', { prompt: 'x', seed: 'a' }, 'seed: expected an integer, received "a"'],
    ['completion', { prompt: 'x', seed: 1.5 }, 'seed: expected an integer, received number 1.5'],
    [
      'completion',
      { prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] },
      'stop: expected a string or an array of at most 4 strings, received an array of 5',
    ],
    [
      'completion',
      { prompt: 'x', stream: true, stream_options: { include_usage: 1 } },
      'stream_options.include_usage: expected true or false, received number 1',
    ],
    [
      'completion',
      { messages: [] },
      'messages: expected no such field (accepted: prompt, model, max_tokens, max_completion_tokens, temperature, top_p, top_k, repetition_penalty, frequency_penalty, presence_penalty, logprobs, stop, seed, stream, stream_options, n, user), received an array of 0',
    ],
    [
      'chat',
      { prompt: 'x' },
      'prompt: expected no such field (accepted: messages, model, max_tokens, max_completion_tokens, temperature, top_p, top_k, repetition_penalty, frequency_penalty, presence_penalty, logprobs, stop, seed, stream, stream_options, n, user, top_logprobs), received "x"',
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
