/**
 * Sliding-window perplexity checked against direct forwards of a tiny random GPT: with stride = context the summed
 * NLL equals the per-window cross-entropies added up by hand (float64 log-softmax of each window's logits); with
 * stride 1 it equals scoring every token from its own forward over at most `context` tokens of left context; in
 * between, every token is scored exactly once; batching does not change the result; bits per byte follow from the
 * text's bytes; and user mistakes are one-line errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pplWindows, perplexity, textPerplexity } from '../../src/eval/perplexity.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { UserError } from '../../src/util/user-error.ts';

const V = 23;
const model = createModel(
  resolveModelConfig({ arch: 'gpt2', vocabSize: V, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0 }),
  new Rng(5),
);
const rng = new Rng(9);
const ids = Array.from({ length: 45 }, () => rng.int(V));

/** -log p(ids[start + t + 1] | ids[start .. start + t]) for t in [from - start - 1, end - start), from one forward. */
function windowNll(m: LanguageModel, start: number, end: number, from: number): number {
  const T = end - start;
  const logits = noGrad(() => m.forward(Int32Array.from(ids.slice(start, end)), 1, T).logits).data;
  let sum = 0;
  for (let t = 0; t < T; t++) {
    const target = start + t + 1;
    if (target < from) continue;
    const row = logits.subarray(t * V, (t + 1) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - max);
    sum += -(row[ids[target]!]! - max - Math.log(z));
  }
  return sum;
}

const close = (a: number, b: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test("stride = context: the sum of the disjoint windows' cross-entropies", () => {
  const ctx = 8;
  let expected = 0;
  for (let start = 0; start < ids.length - 1; start += ctx)
    expected += windowNll(model, start, Math.min(start + ctx, ids.length - 1), 0);
  const r = perplexity(model, ids, { context: ctx, stride: ctx });
  assert.equal(r.scored, ids.length - 1);
  assert.equal(r.windows, Math.ceil((ids.length - 1) / ctx));
  close(r.nll, expected, 'windowed nll');
  close(r.meanNll, expected / (ids.length - 1), 'mean nll');
  close(r.ppl, Math.exp(expected / (ids.length - 1)), 'perplexity');
});

test('stride 1: every token scored with its full left context capped at the window', () => {
  const ctx = 6;
  let expected = 0;
  for (let j = 1; j < ids.length; j++) {
    const start = Math.max(0, j - ctx);
    expected += windowNll(model, start, j, j); // only the last position's target, ids[j]
  }
  const r = perplexity(model, ids, { context: ctx, stride: 1 });
  assert.equal(r.scored, ids.length - 1);
  close(r.nll, expected, 'stride-1 nll');
  // More context per token than disjoint windows give: a different (here random-model) number, same token count.
  const disjoint = perplexity(model, ids, { context: ctx, stride: ctx });
  assert.equal(disjoint.scored, r.scored);
  assert.notEqual(disjoint.nll, r.nll);
});

test('any stride scores each target once; batch size does not change the sum', () => {
  for (const [n, ctx, stride] of [
    [45, 8, 3],
    [10, 8, 5],
    [2, 4, 1],
    [9, 8, 8],
    [100, 16, 7],
  ] as const) {
    const seen = new Array<number>(n).fill(0);
    for (const w of pplWindows(n, ctx, stride)) {
      assert.ok(
        w.end - w.start <= ctx && w.end <= n - 1 && w.scoreFrom > w.start && w.scoreFrom <= w.end,
        JSON.stringify(w),
      );
      for (let j = w.scoreFrom; j <= w.end; j++) seen[j]!++;
    }
    assert.deepEqual(seen, [0, ...new Array<number>(n - 1).fill(1)], `n ${n} context ${ctx} stride ${stride}`);
  }
  const a = perplexity(model, ids, { context: 8, stride: 3, batchSize: 1 });
  const b = perplexity(model, ids, { context: 8, stride: 3, batchSize: 64 });
  close(a.nll, b.nll, 'batch 1 vs 64');
  let expected = 0;
  for (const w of pplWindows(ids.length, 8, 3)) expected += windowNll(model, w.start, w.end, w.scoreFrom);
  close(a.nll, expected, 'stride 3 vs direct');
});

test('text perplexity: bits per byte over the bytes after the first token; clear errors', () => {
  const text = 'the cat sat on the mat. é';
  const tok = CharTokenizer.fromText(text);
  const m = createModel(
    resolveModelConfig({
      arch: 'gpt2',
      vocabSize: tok.vocabSize,
      blockSize: 16,
      nLayer: 1,
      nHead: 2,
      nEmbd: 16,
      dropout: 0,
    }),
    new Rng(1),
  );
  const r = textPerplexity(m, tok, text, { context: 8, stride: 4 });
  assert.equal(r.bytes, Buffer.byteLength(text) - 1);
  close(r.bitsPerByte, r.nll / Math.LN2 / r.bytes, 'bits per byte');
  assert.throws(() => textPerplexity(m, tok, '  \n', {}), /perplexity: text is empty/);
  assert.throws(() => textPerplexity(m, tok, 't', { label: 'one.txt' }), /one\.txt has 1 token\(s\); at least 2/);
  assert.throws(
    () => perplexity(m, [1, 2, 3], { context: 17 }),
    (e: Error) => e instanceof UserError && /context 17 exceeds the model's blockSize 16/.test(e.message),
  );
  assert.throws(
    () => perplexity(m, [1, 2, 3], { context: 8, stride: 9 }),
    /stride must be an integer in \[1, context = 8\], received 9/,
  );
  assert.throws(() => perplexity(m, [1, 99], {}), /token 99 at position 1 of text is outside the model's vocabulary/);
});
