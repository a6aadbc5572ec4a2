/**
 * Next-token prediction: the top N entries are the most probable tokens of the full float32 softmax at the last
 * position (checked against the engine's own softmax of a full forward), sorted, with decoded token text; long
 * texts are cropped to the context; an empty text starts from <|endoftext|> when the tokenizer has it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextTokenProbs, predictNext } from '../../src/generate/predict.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import * as F from '../../src/ops/index.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { UserError } from '../../src/util/user-error.ts';

const tok = CharTokenizer.fromText('the quick brown fox jumps over the lazy dog. THE END!\n');
const cfg = completeModelConfig({
  arch: 'gpt2',
  vocabSize: tok.vocabSize,
  blockSize: 16,
  nLayer: 1,
  nHead: 2,
  nEmbd: 16,
});
const model = createModel(cfg, new Rng(5));
for (const p of model.parameters()) if (p.ndim >= 2) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 10;

test('top N of the full softmax, most probable first, matching the engine softmax of a full forward', () => {
  const text = 'the lazy do';
  const ids = Int32Array.from(tok.encode(text));
  const logits = noGrad(() => model.forward(ids, 1, ids.length).logits); // (1, T, V)
  const V = tok.vocabSize;
  const ref = F.softmax(F.reshape(logits, [ids.length, V])).data.subarray((ids.length - 1) * V);
  const preds = predictNext(model, tok, text, 5);
  assert.equal(preds.length, 5);
  const sortedRef = Array.from(ref.keys())
    .sort((a, b) => ref[b]! - ref[a]! || a - b)
    .slice(0, 5);
  assert.deepEqual(
    preds.map((p) => p.id),
    sortedRef,
  );
  for (const p of preds) {
    assert.ok(Math.abs(p.prob - ref[p.id]!) < 1e-6, `id ${p.id}: ${p.prob} vs ${ref[p.id]}`);
    assert.equal(p.prob, Math.fround(p.prob), 'a float32 value');
    assert.equal(p.token, tok.decode([p.id]));
  }
  for (let i = 1; i < preds.length; i++) assert.ok(preds[i - 1]!.prob >= preds[i]!.prob);
  const all = nextTokenProbs(model, Array.from(ids));
  assert.equal(all.length, V);
  assert.ok(Math.abs(all.reduce((s, p) => s + p, 0) - 1) < 1e-5);
  assert.ok(preds[0]!.prob < 0.999, 'not a degenerate one-hot distribution');
  assert.equal(model.training, true, 'the training flag is restored');
});

test('a text longer than the context is cropped from the left', () => {
  const long = 'the quick brown fox jumps over the lazy dog';
  const tail = long.slice(long.length - cfg.blockSize);
  assert.deepEqual(predictNext(model, tok, long, 3), predictNext(model, tok, tail, 3));
});

test('empty text: <|endoftext|> starts a BPE prompt; a tokenizer without one is a user error', () => {
  const wc = new WordCounter();
  wc.add('the cat sat on the mat '.repeat(20));
  const bpe = trainBpe(wc.counts, { vocabSize: 262 });
  const m = createModel(
    completeModelConfig({ arch: 'llama', vocabSize: bpe.vocabSize, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }),
    new Rng(1),
  );
  const eos = bpe.specialId('<|endoftext|>')!;
  const fromEmpty = predictNext(m, bpe, '', 4);
  const probs = nextTokenProbs(m, [eos]);
  assert.deepEqual(
    fromEmpty.map((p) => p.prob),
    fromEmpty.map((p) => probs[p.id]),
  );
  assert.throws(
    () => predictNext(model, tok, '', 3),
    (e: Error) => /prompt is empty/.test(e.message) && e instanceof UserError,
  );
  assert.throws(() => predictNext(model, tok, 'the', 0), /top must be a positive integer/);
  assert.throws(
    () => predictNext(model, tok, 'the café', 3),
    (e: Error) => /cannot encode the prompt: .*"é" at offset 7/.test(e.message) && e instanceof UserError,
  );
});
