/**
 * Multiple-choice scoring checked by hand on a tiny random character-level GPT: each choice's log-probability is
 * recomputed from one plain forward of context + " " + choice (float64 log-softmax, summed over the choice's
 * tokens), the normalized score divides by the choice's bytes, predictions are the argmaxes, the answer may be an
 * index or a choice's text, batching does not change a number, an over-long context is cut on the left; plus the
 * Wilson interval against worked values and item errors naming file, line and field.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMcItems, parseMcItem, type McItem } from '../../src/eval/mc-items.ts';
import { scoreMultipleChoice } from '../../src/eval/multiple-choice.ts';
import { wilsonInterval } from '../../src/eval/wilson.ts';
import { createModel } from '../../src/models/create.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const tok = CharTokenizer.fromText('the cat sat on the mat. the dog sat on the log.');
const V = tok.vocabSize;
const model = createModel(
  resolveModelConfig({ arch: 'gpt2', vocabSize: V, blockSize: 24, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0 }),
  new Rng(3),
);

/** log p(choice tokens | context) from one forward of the whole sequence (last blockSize + 1 tokens). */
function handLogprob(context: string, choice: string): number {
  let ids = tok.encode(`${context} ${choice}`);
  const cont = tok.encode(` ${choice}`).length;
  if (ids.length > 25) ids = ids.slice(ids.length - 25);
  const T = ids.length - 1;
  const logits = noGrad(() => model.forward(Int32Array.from(ids.slice(0, T)), 1, T).logits).data;
  let sum = 0;
  for (let t = T - cont; t < T; t++) {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
    sum += row[ids[t + 1]!]! - max - Math.log(z);
  }
  return sum;
}

const items: McItem[] = [
  parseMcItem({ question: 'the cat sat on the', choices: ['mat', 'log', 'dog.'], answer: 'log' }, 'a'),
  parseMcItem({ context: 'the dog sat', choices: ['on', 'at', 'on the mat.'], answer: 2 }, 'b'),
  parseMcItem(
    {
      question: 'the cat sat on the mat. the dog sat on the log. the cat sat on the',
      choices: ['mat', 'log'],
      answer: 0,
    },
    'c',
  ), // longer than the context
];

test('choice log-probs, normalization and predictions equal a hand computation; batch size changes nothing', () => {
  const r = scoreMultipleChoice(model, tok, items);
  const again = scoreMultipleChoice(model, tok, items, { batchSize: 1 });
  assert.equal(items[0]!.answer, 1); // the answer given as text
  assert.equal(r.truncated, 2); // both choices of item c
  let correct = 0;
  let correctNorm = 0;
  items.forEach((it, i) => {
    const p = r.items[i]!;
    const hand = it.choices.map((c) => handLogprob(it.context, c));
    hand.forEach((h, j) => {
      assert.ok(Math.abs(p.logprobs[j]! - h) < 1e-4, `item ${i} choice ${j}: ${p.logprobs[j]} vs ${h}`);
      assert.ok(Math.abs(p.normalized[j]! - h / it.choices[j]!.length) < 1e-4);
      assert.ok(Math.abs(again.items[i]!.logprobs[j]! - p.logprobs[j]!) < 1e-5);
    });
    assert.equal(p.pred, hand.indexOf(Math.max(...hand)));
    const norm = hand.map((h, j) => h / it.choices[j]!.length);
    assert.equal(p.predNorm, norm.indexOf(Math.max(...norm)));
    if (p.pred === it.answer) correct++;
    if (p.predNorm === it.answer) correctNorm++;
  });
  assert.equal(r.correct, correct);
  assert.equal(r.correctNorm, correctNorm);
  assert.equal(r.accuracy, correct / 3);
  assert.deepEqual(r.ci, wilsonInterval(correct, 3));
});

test('Wilson interval: worked values, bounds, no zero width at 0% and 100%', () => {
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 5e-5, `${a} vs ${b}`);
  const a = wilsonInterval(8, 10); // p = 0.8: centre 0.71674, half-width 0.22658
  close(a.low, 0.49016);
  close(a.high, 0.94332);
  const z = wilsonInterval(0, 10);
  assert.equal(z.low, 0);
  close(z.high, 0.27753);
  const all = wilsonInterval(10, 10);
  close(all.low, 1 - 0.27753);
  assert.equal(all.high, 1);
  assert.deepEqual(wilsonInterval(0, 0), { low: 0, high: 1 });
  close(wilsonInterval(50, 100).low, 0.40383);
  assert.throws(() => wilsonInterval(3, 2), /0 <= k <= n/);
});

test('item errors name the file, line and field', () => {
  const dir = tempDir('mc-items');
  const path = join(dir, 'items.jsonl');
  const cases: [unknown, RegExp][] = [
    [
      { question: 'q', choices: ['a'], answer: 0 },
      /items\.jsonl:2: field "choices" must be an array of at least 2 non-empty strings, received \["a"\]/,
    ],
    [
      { question: 'q', choices: ['a', 'b'], answer: 2 },
      /items\.jsonl:2: field "answer" must be a choice index in \[0, 1\] or a choice's text, received 2/,
    ],
    [
      { question: 'q', choices: ['a', 'b'], answer: 'c' },
      /items\.jsonl:2: field "answer" "c" is not one of the choices \["a","b"\]/,
    ],
    [{ choices: ['a', 'b'], answer: 0 }, /items\.jsonl:2: field "question" must be a non-empty string/],
    [{ context: 'q', choices: ['a', 'a'], answer: 0 }, /items\.jsonl:2: field "choices" lists "a" twice/],
  ];
  for (const [bad, re] of cases) {
    writeFileSync(
      path,
      `${JSON.stringify({ question: 'ok', choices: ['x', 'y'], answer: 0 })}\n${JSON.stringify(bad)}\n`,
    );
    assert.throws(
      () => loadMcItems(path),
      (e: Error) => re.test(e.message) && e instanceof UserError,
    );
  }
  writeFileSync(path, `${JSON.stringify({ question: 'ok', choices: ['x', 'y'], answer: 'y', category: 'k' })}\n`);
  assert.deepEqual(loadMcItems(path), [{ context: 'ok', choices: ['x', 'y'], answer: 1, category: 'k' }]);
});
