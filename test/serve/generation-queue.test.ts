/**
 * The serve queue: tasks run one at a time in arrival order (a failing task does not block the next), and a
 * generation stops after the token during which its signal aborted, or does not start when aborted while queued;
 * an abandoned generation restores the model's training flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationQueue, runGeneration } from '../../src/serve/generation-queue.ts';
import { generate } from '../../src/generate/generate.ts';
import { tinyServedModel } from './tiny-server.ts';

test('tasks run one at a time, in arrival order; a failed task does not block the queue', async () => {
  const q = new GenerationQueue();
  const events: string[] = [];
  let active = 0;
  const task =
    (name: string, fail = false) =>
    async () => {
      assert.equal(active++, 0, `${name} started while another task ran`);
      events.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`end ${name}`);
      active--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
  const runs = [q.run(task('a')), q.run(task('b', true)), q.run(task('c'))];
  assert.equal(q.size, 3);
  const settled = await Promise.allSettled(runs);
  assert.deepEqual(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.equal(q.size, 0);
  await q.idle();
});

test('runGeneration: same tokens as generate; an abort ends it after the current token; aborted early, it never starts', async () => {
  const { model, tokenizer } = tinyServedModel();
  const prompt = tokenizer.encode('The sun');
  const opts = { tokenizer, maxNewTokens: 12, temperature: 0 };
  const full = await runGeneration(model, prompt, opts, new AbortController().signal);
  assert.deepEqual(full.summary!.ids, generate(model, prompt, opts).ids);
  assert.equal(full.tokens, 12);

  const ctrl = new AbortController();
  let pieces = 0;
  model.train(true);
  const cut = await runGeneration(
    model,
    prompt,
    {
      ...opts,
      onText: () => {
        if (++pieces === 3) ctrl.abort();
      },
    },
    ctrl.signal,
  );
  assert.equal(cut.summary, null);
  assert.ok(cut.tokens >= 3 && cut.tokens < 12, `stopped after ${cut.tokens} tokens`);
  assert.equal(model.training, true, 'the training flag is restored when the generation is abandoned');

  const never = await runGeneration(model, prompt, opts, AbortSignal.abort());
  assert.deepEqual(never, { summary: null, tokens: 0 });
});
