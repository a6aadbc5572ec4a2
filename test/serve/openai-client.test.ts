/**
 * `llmforge serve` driven by the `openai` npm client over real HTTP on 127.0.0.1, with the request shapes that
 * client sends: any model name answered by the loaded model (or the --model-name alias), chat and completions equal
 * to `generate`, frequency/presence penalties as OpenAI defines them, logprobs (chat: content[] with token,
 * logprob, bytes, top_logprobs; completions: tokens, token_logprobs, top_logprobs, text_offset) equal to the
 * model's next-token distribution at each position, streamed and whole alike, n choices seeded seed + i, seeds
 * reproducing, stream_options.include_usage, max_tokens / max_completion_tokens clamped to the server's limit with
 * finish_reason "length", and CORS (the header on every answer, the OPTIONS preflight) with raw fetch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { encodePrompt } from '../../src/chat/encode.ts';
import { chatmlTemplate } from '../../src/chat/templates.ts';
import { generate, type GenerateOptions } from '../../src/generate/generate.ts';
import { nextTokenProbs, promptIds, tokenText } from '../../src/generate/predict.ts';
import { TextStream } from '../../src/generate/text-stream.ts';
import { checkCorsOrigin } from '../../src/serve/server.ts';
import { eosId } from '../../src/tokenizer/text-tokenizer.ts';
import { UserError } from '../../src/util/user-error.ts';
import { startServer, tinyServedModel } from './tiny-server.ts';

const loaded = tinyServedModel();
const { model, tokenizer } = loaded;
const EOS = eosId(tokenizer)!;
const srv = await startServer(loaded, chatmlTemplate, 64);
const client = new OpenAI({ apiKey: 'not-needed', baseURL: `${srv.url}/v1`, maxRetries: 0 });

function reference(ids: number[], opts: GenerateOptions) {
  return generate(model, ids, { tokenizer, eosId: EOS, seed: 0, ...opts });
}

const messages = [{ role: 'user' as const, content: 'Where does the sun rise?' }];
const chatIds = encodePrompt(tokenizer, chatmlTemplate, { kind: 'chat', messages }, EOS);

test('any model name is answered by the loaded model; /v1/models and responses report its id or the alias', async () => {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 8, temperature: 0 });
  assert.equal(r.model, 'tiny-served');
  assert.equal(r.choices[0]!.message.content, reference(chatIds, { maxNewTokens: 8, temperature: 0 }).text);
  assert.deepEqual(
    (await client.models.list()).data.map((m) => m.id),
    ['tiny-served'],
  );
  const aliased = await startServer(loaded, chatmlTemplate, 8, { modelId: 'my-assistant' });
  const other = new OpenAI({ apiKey: 'x', baseURL: `${aliased.url}/v1`, maxRetries: 0 });
  assert.deepEqual(
    (await other.models.list()).data.map((m) => m.id),
    ['my-assistant'],
  );
  const c = await other.completions.create({ model: 'text-davinci-003', prompt: 'The sun', max_tokens: 3 });
  assert.equal(c.model, 'my-assistant');
  // A bad field still comes back as the client's BadRequestError naming it.
  await assert.rejects(
    client.chat.completions.create({ model: 'x', messages, frequency_penalty: 3 }),
    (e: unknown) =>
      e instanceof OpenAI.BadRequestError &&
      e.status === 400 &&
      /frequency_penalty: expected a number in \[-2, 2\] \(0 = off\), received number 3/.test(e.message),
  );
});

test('frequency and presence penalties: what generate gives with OpenAI semantics, and fewer repeats', async () => {
  const prompt = 'The café in';
  const ids = promptIds(tokenizer, prompt);
  const plain = reference(ids, { maxNewTokens: 30, temperature: 0 });
  const repeats = (xs: number[]) => xs.length - new Set(xs).size;
  assert.ok(repeats(plain.ids) > 5, 'the greedy tiny model repeats itself');
  for (const [frequency_penalty, presence_penalty] of [
    [1.5, 0],
    [0, 1.5],
    [0.5, 0.5],
  ] as const) {
    const want = reference(ids, {
      maxNewTokens: 30,
      temperature: 0,
      frequencyPenalty: frequency_penalty,
      presencePenalty: presence_penalty,
    });
    const r = await client.completions.create({
      model: 'tiny-served',
      prompt,
      max_tokens: 30,
      temperature: 0,
      frequency_penalty,
      presence_penalty,
    });
    assert.equal(r.choices[0]!.text, want.text);
    assert.notEqual(want.text, plain.text);
    assert.ok(repeats(want.ids) < repeats(plain.ids), `${frequency_penalty}/${presence_penalty}`);
  }
  // Chat too, and sampled: the same seed gives generate's tokens.
  const want = reference(chatIds, { maxNewTokens: 20, temperature: 0.8, seed: 11, frequencyPenalty: 1 });
  const r = await client.chat.completions.create({
    model: 'x',
    messages,
    max_completion_tokens: 20,
    temperature: 0.8,
    seed: 11,
    frequency_penalty: 1,
  });
  assert.equal(r.choices[0]!.message.content, want.text);
});

test('completions logprobs: the next-token distribution at each generated position, with text offsets', async () => {
  const prompt = 'The café';
  const ids = promptIds(tokenizer, prompt);
  const r = await client.completions.create({
    model: 'x',
    prompt,
    max_tokens: 12,
    temperature: 0.7,
    seed: 4,
    logprobs: 3,
  });
  const choice = r.choices[0]!;
  const lp = choice.logprobs!;
  const want = reference(ids, { maxNewTokens: 12, temperature: 0.7, seed: 4 });
  assert.equal(choice.text, want.text);
  assert.equal(lp.tokens!.length, r.usage!.completion_tokens);
  assert.equal(lp.tokens!.length, want.ids.length);
  assert.ok(ids.length + want.ids.length <= model.config.blockSize, 'no context slide in this check');
  const decoder = new TextStream(tokenizer);
  let offset = [...prompt].length;
  for (const [i, id] of want.ids.entries()) {
    // What `predict` computes from the prompt and the tokens so far: the raw model distribution.
    const probs = nextTokenProbs(model, [...ids, ...want.ids.slice(0, i)]);
    assert.equal(lp.tokens![i], tokenText(tokenizer, id));
    assert.ok(Math.abs(lp.token_logprobs![i]! - Math.log(probs[id]!)) < 1e-5, `token ${i}`);
    const top = lp.top_logprobs![i]!;
    const best = Array.from(probs.keys())
      .sort((a, b) => probs[b]! - probs[a]! || a - b)
      .slice(0, 3);
    assert.deepEqual(Object.keys(top), [...new Set(best.map((j) => tokenText(tokenizer, j)))]);
    const seen = new Set<string>(); // two ids with the same text (pieces of characters): the first one is listed
    for (const j of best) {
      const t = tokenText(tokenizer, j);
      if (!seen.has(t)) assert.ok(Math.abs(top[t]! - Math.log(probs[j]!)) < 1e-5, `top ${t}`);
      seen.add(t);
    }
    // The offset counts the characters the stream decoder released before the token (a split character once whole).
    assert.equal(lp.text_offset![i], offset, `offset ${i}`);
    offset += [...decoder.push(id)].length;
  }

  // Streamed: the chunks' logprobs concatenate to the whole response's.
  const stream = await client.completions.create({
    model: 'x',
    prompt,
    max_tokens: 12,
    temperature: 0.7,
    seed: 4,
    logprobs: 3,
    stream: true,
  });
  const got = { text: '', tokens: [] as string[], token_logprobs: [] as number[], text_offset: [] as number[] };
  for await (const c of stream) {
    const ch = c.choices[0]!;
    got.text += ch.text;
    if (ch.logprobs) {
      got.tokens.push(...ch.logprobs.tokens!);
      got.token_logprobs.push(...ch.logprobs.token_logprobs!);
      got.text_offset.push(...ch.logprobs.text_offset!);
    }
  }
  assert.deepEqual(got, {
    text: choice.text,
    tokens: lp.tokens,
    token_logprobs: lp.token_logprobs,
    text_offset: lp.text_offset,
  });
});

test('chat logprobs: content[] with token, logprob, bytes and top_logprobs; bytes make the reply; streamed alike', async () => {
  const body = {
    model: 'x',
    messages,
    max_tokens: 20,
    temperature: 1,
    seed: 9,
    logprobs: true,
    top_logprobs: 2,
  };
  const r = await client.chat.completions.create(body);
  const choice = r.choices[0]!;
  const content = choice.logprobs!.content!;
  assert.equal(content.length, r.usage!.completion_tokens);
  const want = reference(chatIds, { maxNewTokens: 20, temperature: 1, seed: 9 });
  assert.equal(choice.message.content, want.text);
  assert.equal(Buffer.concat(content.map((e) => Buffer.from(e.bytes!))).toString('utf8'), want.text);
  for (const [i, e] of content.entries()) {
    assert.deepEqual(Object.keys(e), ['token', 'logprob', 'bytes', 'top_logprobs']);
    assert.equal(e.top_logprobs.length, 2);
    assert.ok(e.top_logprobs[0]!.logprob >= e.top_logprobs[1]!.logprob, `entry ${i}: best first`);
    assert.ok(e.logprob <= e.top_logprobs[0]!.logprob + 1e-12, `entry ${i}: none above the best`);
    assert.equal(e.token, tokenText(tokenizer, want.ids[i]!));
  }
  // The first token's log-probability is predict's (the chat prompt fills the tiny context: later ones slide).
  const probs = nextTokenProbs(model, chatIds);
  assert.ok(Math.abs(content[0]!.logprob - Math.log(probs[want.ids[0]!]!)) < 1e-5, 'first token as predict');
  // top_logprobs null (absent): each entry lists no alternatives. logprobs false: null.
  const plain = await client.chat.completions.create({ ...body, top_logprobs: null });
  assert.ok(
    plain.choices[0]!.logprobs!.content!.every((e) => e.top_logprobs.length === 0),
    'no alternatives',
  );
  const none = await client.chat.completions.create({ ...body, logprobs: false, top_logprobs: null });
  assert.equal(none.choices[0]!.logprobs, null);

  const stream = await client.chat.completions.create({ ...body, stream: true });
  let text = '';
  const streamed: unknown[] = [];
  for await (const c of stream) {
    const ch = c.choices[0]!;
    text += ch.delta.content ?? '';
    if (ch.logprobs?.content) streamed.push(...ch.logprobs.content);
  }
  assert.equal(text, want.text);
  assert.deepEqual(streamed, content);
});

test('n choices: generated one after another with seeds seed + i, whole and streamed; usage sums them', async () => {
  const prompt = 'The sun';
  const ids = promptIds(tokenizer, prompt);
  const r = await client.completions.create({ model: 'x', prompt, max_tokens: 10, temperature: 1, seed: 20, n: 3 });
  const wants = [20, 21, 22].map((seed) => reference(ids, { maxNewTokens: 10, temperature: 1, seed }));
  assert.deepEqual(
    r.choices.map((c) => [c.index, c.text]),
    wants.map((w, i) => [i, w.text]),
  );
  assert.equal(new Set(wants.map((w) => w.text)).size, 3);
  assert.equal(
    r.usage!.completion_tokens,
    wants.reduce((a, w) => a + w.ids.length, 0),
  );
  assert.equal(r.usage!.prompt_tokens, ids.length);

  const stream = await client.chat.completions.create({
    model: 'x',
    messages,
    max_tokens: 10,
    temperature: 1,
    seed: 5,
    n: 2,
    stream: true,
  });
  const texts = ['', ''];
  const finishes: (string | null)[] = [null, null];
  for await (const c of stream) {
    const ch = c.choices[0]!;
    texts[ch.index] += ch.delta.content ?? '';
    if (ch.finish_reason) finishes[ch.index] = ch.finish_reason;
  }
  const chatWants = [5, 6].map((seed) => reference(chatIds, { maxNewTokens: 10, temperature: 1, seed }));
  assert.deepEqual(
    texts,
    chatWants.map((w) => w.text),
  );
  assert.deepEqual(
    finishes,
    chatWants.map((w) => (w.stopReason === 'length' ? 'length' : 'stop')),
  );
});

test('seed reproduces a sampled answer; without one answers vary', async () => {
  const ask = (seed?: number) =>
    client.completions
      .create({ model: 'x', prompt: 'The', max_tokens: 16, temperature: 1, ...(seed !== undefined ? { seed } : {}) })
      .then((r) => r.choices[0]!.text);
  assert.equal(await ask(3), await ask(3));
  assert.notEqual(await ask(3), await ask(4));
  const free = new Set(await Promise.all([ask(), ask(), ask(), ask()]));
  assert.ok(free.size > 1, 'unseeded answers vary');
});

test('stream_options.include_usage: a last chunk with the usage and no choices', async () => {
  const stream = await client.chat.completions.create({
    model: 'x',
    messages,
    max_tokens: 6,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  const want = reference(chatIds, { maxNewTokens: 6, temperature: 0 });
  assert.deepEqual(last.usage, {
    prompt_tokens: chatIds.length,
    completion_tokens: want.ids.length,
    total_tokens: chatIds.length + want.ids.length,
  });
  assert.ok(
    chunks.slice(0, -1).every((c) => c.usage === undefined || c.usage === null),
    'usage only in the last chunk',
  );
});

test("max_tokens and max_completion_tokens above the server's limit are clamped to it: finish_reason length", async () => {
  const small = await startServer(loaded, chatmlTemplate, 5);
  const c = new OpenAI({ apiKey: 'x', baseURL: `${small.url}/v1`, maxRetries: 0 });
  const prompt = 'The café in';
  const want = reference(promptIds(tokenizer, prompt), { maxNewTokens: 5, temperature: 0 });
  assert.equal(want.stopReason, 'length');
  const r = await c.completions.create({ model: 'x', prompt, max_tokens: 4096, temperature: 0 });
  assert.deepEqual(
    [r.choices[0]!.text, r.choices[0]!.finish_reason, r.usage!.completion_tokens],
    [want.text, 'length', 5],
  );
  const chat = await c.chat.completions.create({ model: 'x', messages, max_completion_tokens: 1000, temperature: 0 });
  assert.equal(chat.usage!.completion_tokens, 5);
  assert.equal(chat.choices[0]!.finish_reason, 'length');
  assert.ok(
    small.logs.some((l) => l.includes("max_tokens 4096 clamped to the server's limit of 5")),
    small.logs.join('\n'),
  );
});

test('CORS: the allowed origin on every answer (JSON, stream, error) and the OPTIONS preflight; none without it', async () => {
  const origin = 'http://localhost:3000';
  const cors = await startServer(loaded, chatmlTemplate, 8, { corsOrigin: origin });
  const pre = await fetch(`${cors.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-stainless-os',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization, content-type, x-stainless-os');
  assert.equal(pre.headers.get('vary'), 'Origin');
  const post = (body: object) =>
    fetch(`${cors.url}/v1/completions`, { method: 'POST', headers: { origin }, body: JSON.stringify(body) });
  for (const r of [
    await post({ prompt: 'The', max_tokens: 2 }),
    await post({ prompt: 'The', max_tokens: 2, stream: true }),
    await post({ prompt: 3 }),
    await fetch(`${cors.url}/v1/models`, { headers: { origin } }),
  ]) {
    assert.equal(r.headers.get('access-control-allow-origin'), origin, `${r.status}`);
    await r.text();
  }
  // Without --cors-origin: no header, and OPTIONS is a method like any other (405).
  const none = await fetch(`${srv.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin } });
  assert.equal(none.status, 405);
  assert.equal(none.headers.get('access-control-allow-origin'), null);
  const any = await startServer(loaded, chatmlTemplate, 8, { corsOrigin: '*' });
  assert.equal((await fetch(`${any.url}/health`)).headers.get('access-control-allow-origin'), '*');

  for (const bad of ['localhost:3000', 'http://localhost:3000/', 'http://a.b/path', 'ftp://a.b', '']) {
    assert.throws(
      () => checkCorsOrigin(bad, 'serve: --cors-origin'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('serve: --cors-origin: expected "*" or an origin'),
      bad,
    );
  }
});
