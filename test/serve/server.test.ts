/**
 * `llmforge serve`'s API on a tiny saved model over real HTTP (127.0.0.1, port 0): /v1/completions returns what
 * `generate` produces with the same settings (greedy, and seeded sampling with a stop string), streamed chunks
 * concatenate to the whole text (multi-byte characters never split, SSE framing, usage chunk), chat completions
 * render the messages through the server's template, usage counts the prompt and generated tokens, a prompt longer
 * than the context is cropped as `generate` crops it, bad requests are 400/404/405 with OpenAI's error body, a
 * client that disconnects stops its generation, and shutdown ends a running stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { encodePrompt } from '../../src/chat/encode.ts';
import { alpacaTemplate, chatmlTemplate } from '../../src/chat/templates.ts';
import { generate } from '../../src/generate/generate.ts';
import { promptIds } from '../../src/generate/predict.ts';
import { eosId } from '../../src/tokenizer/text-tokenizer.ts';
import { post, postStream, startServer, tinyServedModel } from './tiny-server.ts';

const loaded = tinyServedModel();
const { model, tokenizer } = loaded;
const EOS = eosId(tokenizer)!;
const srv = await startServer(loaded, chatmlTemplate, 64);

/** `generate` on `prompt` with the server's fixed settings (EOS, tokenizer) and the given sampling. */
function reference(
  ids: number[],
  opts: { maxNewTokens: number; temperature: number; seed?: number; topK?: number; stop?: string[] },
) {
  return generate(model, ids, { tokenizer, eosId: EOS, seed: 0, ...opts });
}

test('GET /health and /v1/models: the one loaded model, named after its directory', async () => {
  assert.equal(basename(loaded.dir), 'tiny-served');
  const h = await fetch(`${srv.url}/health`);
  assert.equal(h.status, 200);
  assert.deepEqual(await h.json(), { status: 'ok', model: 'tiny-served', queued: 0 });
  const m = (await (await fetch(`${srv.url}/v1/models`)).json()) as {
    object: string;
    data: { id: string; object: string }[];
  };
  assert.equal(m.object, 'list');
  assert.deepEqual(
    m.data.map((d) => [d.id, d.object]),
    [['tiny-served', 'model']],
  );
});

test('completions: greedy and seeded sampling equal generate with the same settings; usage counts tokens', async () => {
  const prompt = 'The café in';
  const ids = promptIds(tokenizer, prompt);
  const greedy = reference(ids, { maxNewTokens: 20, temperature: 0 });
  const r = await post(`${srv.url}/v1/completions`, { model: 'tiny-served', prompt, max_tokens: 20, temperature: 0 });
  assert.equal(r.status, 200);
  assert.match(r.json.id as string, /^cmpl-[0-9a-f]{24}$/);
  assert.equal(r.json.object, 'text_completion');
  assert.equal(r.json.model, 'tiny-served');
  assert.ok(Number.isInteger(r.json.created));
  const choice = (r.json.choices as { index: number; text: string; finish_reason: string }[])[0]!;
  assert.equal(choice.text, greedy.text);
  assert.ok(greedy.text.length > 0);
  assert.equal(choice.finish_reason, greedy.stopReason === 'length' ? 'length' : 'stop');
  assert.deepEqual(r.json.usage, {
    prompt_tokens: ids.length,
    completion_tokens: greedy.ids.length,
    total_tokens: ids.length + greedy.ids.length,
  });

  const sampled = reference(ids, { maxNewTokens: 30, temperature: 0.9, topK: 40, seed: 7 });
  const s = await post(`${srv.url}/v1/completions`, { prompt, max_tokens: 30, temperature: 0.9, top_k: 40, seed: 7 });
  assert.equal((s.json.choices as { text: string }[])[0]!.text, sampled.text);
  assert.notEqual(sampled.text, greedy.text);

  // A stop string: the text ends before it, finish_reason "stop", as generate's stop.
  const stop = sampled.text.slice(3, 5);
  const stopped = reference(ids, { maxNewTokens: 30, temperature: 0.9, topK: 40, seed: 7, stop: [stop] });
  assert.equal(stopped.stopReason, 'stop');
  const t = await post(`${srv.url}/v1/completions`, {
    prompt,
    max_tokens: 30,
    temperature: 0.9,
    top_k: 40,
    seed: 7,
    stop: [stop],
  });
  const tc = (t.json.choices as { text: string; finish_reason: string }[])[0]!;
  assert.deepEqual([tc.text, tc.finish_reason], [stopped.text, 'stop']);
  assert.equal((t.json.usage as { completion_tokens: number }).completion_tokens, stopped.ids.length);
});

test('streaming: SSE chunks concatenate to the non-streamed text, no split UTF-8, [DONE] last, usage chunk on request', async () => {
  for (const seed of [1, 2, 3]) {
    const body = { prompt: '東京の', max_tokens: 40, temperature: 1, seed };
    const whole = await post(`${srv.url}/v1/completions`, body);
    const wholeText = (whole.json.choices as { text: string; finish_reason: string }[])[0]!;
    const s = await postStream(`${srv.url}/v1/completions`, { ...body, stream_options: { include_usage: true } });
    assert.equal(s.status, 200);
    assert.match(s.contentType!, /^text\/event-stream/);
    assert.equal(s.events.at(-1), '[DONE]');
    const chunks = s.events.slice(0, -1) as {
      id: string;
      object: string;
      choices: { text: string; finish_reason: string | null }[];
      usage?: unknown;
    }[];
    const usageChunk = chunks.pop()!;
    assert.deepEqual(usageChunk.choices, []);
    assert.deepEqual(usageChunk.usage, whole.json.usage);
    const last = chunks.at(-1)!;
    assert.deepEqual([last.choices[0]!.text, last.choices[0]!.finish_reason], ['', wholeText.finish_reason]);
    const pieces = chunks.slice(0, -1).map((c) => c.choices[0]!.text);
    assert.ok(chunks.every((c) => c.object === 'text_completion' && c.id === chunks[0]!.id));
    assert.ok(chunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null));
    assert.equal(pieces.join(''), wholeText.text);
    assert.ok(pieces.length > 1);
    // The pieces decode the generated bytes as a whole does; decoding token by token would not (tokens end mid-character).
    const ids = reference(promptIds(tokenizer, body.prompt), { maxNewTokens: 40, temperature: 1, seed }).ids;
    assert.equal(pieces.join(''), tokenizer.decode(ids));
    assert.notEqual(ids.map((id) => tokenizer.decode([id])).join(''), tokenizer.decode(ids));
    // No piece ends inside a surrogate pair (an emoji split across two events).
    for (const p of pieces) assert.equal(new TextDecoder().decode(new TextEncoder().encode(p)), p);
  }
});

test('chat completions render the messages through the template, whole and streamed', async () => {
  const messages = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Where does the sun rise?' },
  ];
  const ids = encodePrompt(tokenizer, chatmlTemplate, { kind: 'chat', messages }, EOS);
  const want = reference(ids, { maxNewTokens: 25, temperature: 0 });
  const r = await post(`${srv.url}/v1/chat/completions`, { messages, max_tokens: 25, temperature: 0 });
  assert.equal(r.status, 200);
  assert.equal(r.json.object, 'chat.completion');
  assert.match(r.json.id as string, /^chatcmpl-/);
  const choice = (r.json.choices as { message: { role: string; content: string }; finish_reason: string }[])[0]!;
  assert.deepEqual(choice.message, { role: 'assistant', content: want.text });
  assert.deepEqual(r.json.usage, {
    prompt_tokens: ids.length,
    completion_tokens: want.ids.length,
    total_tokens: ids.length + want.ids.length,
  });

  const s = await postStream(`${srv.url}/v1/chat/completions`, { messages, max_tokens: 25, temperature: 0 });
  const chunks = s.events.slice(0, -1) as {
    object: string;
    choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  }[];
  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.equal(chunks.map((c) => c.choices[0]!.delta.content ?? '').join(''), want.text);
  assert.deepEqual(chunks.at(-1)!.choices[0], {
    index: 0,
    delta: {},
    logprobs: null,
    finish_reason: choice.finish_reason,
  });

  // Another template, another prompt: a server with the Alpaca template counts its rendering's tokens.
  const alpaca = await startServer(loaded, alpacaTemplate, 8);
  const a = await post(`${alpaca.url}/v1/chat/completions`, { messages, max_tokens: 8, temperature: 0 });
  const alpacaIds = encodePrompt(tokenizer, alpacaTemplate, { kind: 'chat', messages }, EOS);
  assert.notEqual(alpacaIds.length, ids.length);
  assert.equal((a.json.usage as { prompt_tokens: number }).prompt_tokens, alpacaIds.length);
  assert.equal(
    (a.json.choices as { message: { content: string } }[])[0]!.message.content,
    reference(alpacaIds, { maxNewTokens: 8, temperature: 0 }).text,
  );
});

test('a prompt longer than the context is cropped from the left as generate crops it; the log line says so', async () => {
  const prompt = 'The sun rises in the east. '.repeat(8);
  const ids = promptIds(tokenizer, prompt);
  assert.ok(ids.length > model.config.blockSize);
  const want = reference(ids, { maxNewTokens: 5, temperature: 0 });
  const r = await post(`${srv.url}/v1/completions`, { prompt, max_tokens: 5, temperature: 0 });
  assert.equal(r.status, 200);
  assert.equal((r.json.choices as { text: string }[])[0]!.text, want.text);
  assert.equal((r.json.usage as { prompt_tokens: number }).prompt_tokens, ids.length);
  assert.ok(
    srv.logs.some(
      (l) =>
        l.startsWith('POST /v1/completions 200 ') &&
        l.includes(`prompt of ${ids.length} tokens cropped from the left to the model's context of 32 tokens`),
    ),
    srv.logs.join('\n'),
  );
});

test("bad requests: 400 naming the field, 404 unknown path, 405 wrong method, all in OpenAI's error shape", async () => {
  const cases: [string, unknown, string][] = [
    ['/v1/completions', '{"prompt": ', 'body: expected JSON, received invalid JSON ('],
    ['/v1/completions', [1, 2], 'body: expected a JSON object, received an array of 2'],
    ['/v1/completions', { prompt: 3 }, 'prompt: expected a string, received number 3'],
    [
      '/v1/completions',
      { prompt: 'x', temperature: -1 },
      'temperature: expected a number in [0, 2] (0 = greedy), received number -1',
    ],
    ['/v1/completions', { prompt: 'x', max_tokens: 0 }, 'max_tokens: expected an integer >= 1, received number 0'],
    ['/v1/completions', { prompt: 'x', top_p: 0 }, 'top_p: expected a number in (0, 1], received number 0'],
    ['/v1/completions', { prompt: 'x', stop: ['a', ''] }, 'stop[1]: expected a non-empty string, received ""'],
    [
      '/v1/completions',
      { prompt: 'x', echo: true },
      'echo: expected no such field (accepted: prompt, model, max_tokens,',
    ],
    [
      '/v1/completions',
      { prompt: 'x', n: 17 },
      'n: expected an integer in [1, 16] (choices are generated one after another), received number 17',
    ],
    ['/v1/completions', { prompt: 'x', stream: 'yes' }, 'stream: expected true or false, received "yes"'],
    ['/v1/completions', { prompt: '<|endoftext|> x' }, 'prompt: '],
    [
      '/v1/chat/completions',
      { messages: [] },
      'messages: expected a non-empty array of {"role", "content"} objects, received an array of 0',
    ],
    [
      '/v1/chat/completions',
      { messages: [{ role: 'robot', content: 'hi' }] },
      'messages[0].role: expected one of system, user, assistant, developer, received "robot"',
    ],
    [
      '/v1/chat/completions',
      { messages: [{ role: 'user', content: 5 }] },
      'messages[0].content: expected a string or an array of text parts, received number 5',
    ],
  ];
  for (const [path, body, message] of cases) {
    const r = await post(`${srv.url}${path}`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    const err = r.json.error as { message: string; type: string };
    assert.equal(err.type, 'invalid_request_error');
    assert.ok(err.message.startsWith(message), `${err.message} (expected to start with ${message})`);
  }
  const nf = await fetch(`${srv.url}/v1/embeddings`, { method: 'POST', body: '{}' });
  assert.equal(nf.status, 404);
  assert.equal(
    ((await nf.json()) as { error: { message: string } }).error.message,
    'path: expected one of GET /health, GET /v1/models, POST /v1/completions, POST /v1/chat/completions, received POST /v1/embeddings',
  );
  const wm = await fetch(`${srv.url}/v1/completions`);
  assert.equal(wm.status, 405);
  assert.equal(wm.headers.get('allow'), 'POST');
  assert.ok(
    srv.logs.some((l) => /^GET \/v1\/completions 405 \d+ ms$/.test(l)),
    srv.logs.join('\n'),
  );
});

test('a client that disconnects mid-stream stops its generation; the next request is served', async () => {
  const long = await startServer(loaded, chatmlTemplate, 20000);
  const ctrl = new AbortController();
  const r = await fetch(`${long.url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ prompt: 'The sun', max_tokens: 20000, temperature: 1, seed: 1, stream: true }),
    signal: ctrl.signal,
  });
  const reader = r.body!.getReader();
  await reader.read(); // the first chunk has arrived: the generation is running
  ctrl.abort();
  await reader.cancel().catch(() => {});
  const next = await post(`${long.url}/v1/completions`, { prompt: 'The sun', max_tokens: 3, temperature: 0 });
  assert.equal(next.status, 200);
  const line = long.logs.find((l) => l.startsWith('POST /v1/completions 200 ') && l.includes('(aborted'));
  assert.ok(line, long.logs.join('\n'));
  const generated = Number(/\+(\d+) tokens/.exec(line)![1]);
  assert.ok(generated < 20000, line);
  assert.ok(long.logs.indexOf(line) < long.logs.length - 1, 'the aborted request ended before the next one');
});

test('shutdown (what Ctrl-C calls) ends a running stream, answers nothing new and resolves', async () => {
  const other = await startServer(loaded, chatmlTemplate, 20000);
  const r = await fetch(`${other.url}/v1/completions`, {
    method: 'POST',
    body: JSON.stringify({ prompt: 'The sun', max_tokens: 20000, temperature: 1, seed: 2, stream: true }),
  });
  const reader = r.body!.getReader();
  await reader.read();
  await other.api.shutdown();
  let rest = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  assert.ok(rest.endsWith('data: [DONE]\n\n'), 'the stream ended with [DONE]');
  assert.ok(!rest.includes('"finish_reason":"'), 'no finish reason: the generation did not finish');
  assert.match(other.logs.at(-1)!, /^POST \/v1\/completions 200 3\+\d+ tokens \(aborted\) \d+ ms$/);
  assert.equal(other.api.server.listening, false);
  await assert.rejects(fetch(`${other.url}/health`));
});
