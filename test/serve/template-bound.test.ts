/**
 * A server whose model ships a hostile chat template stays usable: a request whose template render would loop for
 * seconds (`range(20000000)`, or nested loops that hit the time limit) gets a one-line 400 error quickly, `/health`
 * keeps answering beside it (a render blocks the event loop at most the template time limit), and a well-formed
 * request to the same server still works. Time and resident memory are bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jinjaTemplate } from '../../src/chat/templates.ts';
import { post, startServer, tinyServedModel } from './tiny-server.ts';

const loaded = tinyServedModel();
const HOSTILE =
  '{% for m in messages %}{% if m.content == "bomb" %}{% for i in range(20000000) %}{% endfor %}{% endif %}' +
  '{% if m.content == "spin" %}{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{% endif %}' +
  '<|{{ m.role }}|>{{ m.content }}{% endfor %}<|assistant|>';

test('a chat template that loops is bounded: one-line 400, /health answers, the server goes on', async () => {
  const srv = await startServer(loaded, jinjaTemplate(HOSTILE, {}, 'tiny-served chat_template'), 4);
  const rss0 = process.memoryUsage().rss;
  for (const content of ['bomb', 'spin']) {
    const t0 = performance.now();
    const request = post(`${srv.url}/v1/chat/completions`, { messages: [{ role: 'user', content }], max_tokens: 2 });
    const health = fetch(`${srv.url}/health`).then(async (r) => ({ status: r.status, ms: performance.now() - t0 }));
    const [r, h] = await Promise.all([request, health]);
    const ms = performance.now() - t0;
    assert.equal(r.status, 400, content);
    const message = (r.json.error as { message: string }).message;
    assert.doesNotMatch(message, /\n| {4}at /);
    assert.match(
      message,
      content === 'bomb'
        ? /tiny-served chat_template: rendering the chat template failed \(range\(20000000\) asks for 20000000 items/
        : /tiny-served chat_template: rendering the chat template failed \(it ran longer than 1000 ms/,
    );
    assert.ok(ms < 3000, `${content}: the request took ${ms} ms`);
    assert.equal(h.status, 200);
    assert.ok(h.ms < 3000, `${content}: /health took ${h.ms} ms`);
  }
  assert.ok((process.memoryUsage().rss - rss0) / 2 ** 20 < 200, 'resident memory stayed bounded');
  const ok = await post(`${srv.url}/v1/chat/completions`, {
    messages: [{ role: 'user', content: 'The café' }],
    max_tokens: 2,
  });
  assert.equal(ok.status, 200);
});
