/**
 * A model's chat template is untrusted: a render runs under a budget (template-budget.ts). `range(20000000)` is
 * refused before it is built, nested loops stop at the time limit, a string doubled in a loop stops at the size
 * limit; each is one line naming the template, quickly and in bounded memory. Ordinary templates (and `range` within
 * bounds) render as before, and outside a budgeted render @huggingface/jinja behaves as it always did.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Template } from '@huggingface/jinja';
import type { SftRecord } from '../../src/chat/records.ts';
import { jinjaTemplate } from '../../src/chat/templates.ts';
import { DEFAULT_TEMPLATE_BUDGET } from '../../src/chat/template-budget.ts';
import { UserError } from '../../src/util/user-error.ts';

const chat: SftRecord = {
  kind: 'chat',
  messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello' },
  ],
};

/** Renders `source`'s prompt for `chat`, returning the error and the time and resident memory it took. */
function attempt(source: string, budget = DEFAULT_TEMPLATE_BUDGET): { error: Error | null; ms: number; rssMB: number } {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let error: Error | null = null;
  try {
    jinjaTemplate(source, {}, 'tokenizer_config.json chat_template', budget).prompt(chat);
  } catch (e) {
    error = e as Error;
  }
  return { error, ms: performance.now() - t0, rssMB: (process.memoryUsage().rss - rss0) / 2 ** 20 };
}

test('a range() bomb is refused before it is built, in one line, quickly and in bounded memory', () => {
  const r = attempt('{% for i in range(20000000) %}{% endfor %}');
  assert.ok(r.error instanceof UserError, String(r.error));
  assert.equal(
    r.error.message,
    'tokenizer_config.json chat_template: rendering the chat template failed (range(20000000) asks for 20000000 items, more than the 100000 a chat template may use)',
  );
  assert.ok(r.ms < 500, `took ${r.ms} ms`);
  assert.ok(r.rssMB < 50, `resident memory grew by ${r.rssMB} MB`);
});

test('nested loops stop at the time limit; a string doubled in a loop stops at the size limit', () => {
  const loops = attempt(
    '{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}',
    { ...DEFAULT_TEMPLATE_BUDGET, timeMs: 200 },
  );
  assert.ok(loops.error instanceof UserError, String(loops.error));
  assert.match(loops.error.message, /chat_template: rendering the chat template failed \(it ran longer than 200 ms/);
  assert.ok(loops.ms < 1500, `took ${loops.ms} ms`);
  assert.ok(loops.rssMB < 100, `resident memory grew by ${loops.rssMB} MB`);

  const doubling = attempt(
    "{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
  );
  assert.ok(doubling.error instanceof UserError, String(doubling.error));
  assert.match(doubling.error.message, /it built a string of 33554432 characters, more than the 16777216 allowed/);
  assert.ok(doubling.ms < 1000, `took ${doubling.ms} ms`);
});

test('ordinary templates and bounded range() render as before; outside a budgeted render jinja is unchanged', () => {
  const t = jinjaTemplate(
    '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}' +
      '{{ range(3)|join(",") }}/{{ range(1, 10, 3)|join(",") }}/{{ range(10, 0, -4)|join(",") }}',
  );
  assert.equal(
    t.prompt({ kind: 'chat', messages: [{ role: 'user', content: 'Hi' }] }),
    '<|user|>Hi<|assistant|>0,1,2/1,4,7/10,6,2',
  );
  assert.equal(new Template('{{ range(200000)|length }}').render({}), '200000');
});
