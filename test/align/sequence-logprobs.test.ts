/**
 * Sequence log-probabilities and DPO batches: on a tiny random GPT-2 the summed log-probability of each row equals
 * a hand computation from the logits over the response positions only (prompt and padding ignored: changing the
 * padding id or a prompt target changes nothing), the gradient flows, and the reference version matches without a
 * graph. Pair tokenization: the response is the final reply and its EOS (chatml's trailing newline dropped), both
 * sides share the prompt, and a long pair is cut prompt first, keeping the prompt's end and the whole response.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dpoPairBatch, splitResponse, tokenizeDpoPair } from '../../src/align/dpo-batch.ts';
import { referenceLogprobs, sequenceLogprobs } from '../../src/align/sequence-logprobs.ts';
import { padSftBatch } from '../../src/finetune/sft-batch.ts';
import type { SftExample } from '../../src/finetune/sft-tokenize.ts';
import { alpacaTemplate, chatmlTemplate } from '../../src/chat/templates.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import * as F from '../../src/ops/index.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';

const tok = new CharTokenizer([
  ...new Set([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?#\'"<>|_-\n()']),
]);
const EOS = tok.vocabSize;
const V = EOS + 1;
const model = createModel(
  completeModelConfig({ arch: 'gpt2', vocabSize: V, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0 }),
  new Rng(7),
);

function example(ids: number[], promptLen: number): SftExample {
  const targets = new Int32Array(ids.length - 1).fill(-100);
  for (let i = promptLen - 1; i < ids.length - 1; i++) targets[i] = ids[i + 1]!;
  return { ids: Int32Array.from(ids.slice(0, -1)), targets, truncated: false };
}

/** log p of tokens[promptLen..] given the prefix, from full-sequence logits of the row alone. */
function byHand(ids: number[], promptLen: number): number {
  const T = ids.length - 1;
  const { logits } = noGrad(() => model.forward(Int32Array.from(ids.slice(0, T)), 1, T));
  let sum = 0;
  for (let t = promptLen - 1; t < T; t++) {
    const row = Array.from(logits.data.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    sum += row[ids[t + 1]!]! - lse;
  }
  return sum;
}

test('sequence log-probs: the sum over response tokens only, padding and prompt ignored, gradient flows', () => {
  const a = [3, 5, 7, 9, 11, 13, 15]; // prompt 4 tokens, response 3
  const b = [2, 4, 6, 8, 10]; // prompt 2 tokens, response 3 (padded to 6 inputs)
  const batch = padSftBatch([example(a, 4), example(b, 2)], EOS);
  assert.equal(batch.T, 6);
  const lp = sequenceLogprobs(model, batch);
  assert.deepEqual(lp.shape, [2]);
  const want = [byHand(a, 4), byHand(b, 2)];
  for (let i = 0; i < 2; i++)
    assert.ok(Math.abs(lp.data[i]! - want[i]!) < 1e-4, `row ${i}: ${lp.data[i]} vs ${want[i]}`);
  const otherPad = padSftBatch([example(a, 4), example(b, 2)], 1);
  assert.deepEqual([...referenceLogprobs(model, otherPad)], [...referenceLogprobs(model, batch)]);
  const otherPrompt = padSftBatch([example([30, 31, 32, 9, 11, 13, 15], 4), example(b, 2)], EOS); // same last prompt token
  assert.notEqual(referenceLogprobs(model, otherPrompt)[0], referenceLogprobs(model, batch)[0]); // context matters
  const wrongMask = padSftBatch([example(a, 3), example(b, 2)], EOS); // one more position counted
  assert.ok(Math.abs(referenceLogprobs(model, wrongMask)[0]! - byHand(a, 3)) < 1e-4);
  assert.ok(referenceLogprobs(model, wrongMask)[0]! < referenceLogprobs(model, batch)[0]!);
  for (const p of model.parameters()) p.zeroGrad();
  F.sum(lp).backward();
  const wte = model.namedParameters().find(([n]) => n.endsWith('wte.weight'))![1];
  assert.ok(
    wte.grad!.toFlatArray().some((g) => g !== 0),
    'the token embeddings get a gradient',
  );
  const ref = referenceLogprobs(model, batch);
  for (let i = 0; i < 2; i++) assert.equal(Math.fround(ref[i]!), lp.data[i]!);
});

test('pairs: the response is the final reply and its EOS; both sides share the prompt; long pairs lose prompt first', () => {
  const rec = {
    kind: 'chat' as const,
    messages: [
      { role: 'user' as const, content: 'hi' },
      { role: 'assistant' as const, content: 'yo' },
    ],
  };
  const { prompt, response } = splitResponse(tok, chatmlTemplate, rec, EOS);
  assert.deepEqual(response, [...tok.encode('yo'), EOS]); // chatml's "\n" after the reply is not part of it
  assert.equal(tok.decode(prompt), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  const pair = {
    chosen: { kind: 'alpaca' as const, instruction: 'Name a colour.', input: '', output: 'Blue, thanks!' },
    rejected: { kind: 'alpaca' as const, instruction: 'Name a colour.', input: '', output: 'No.' },
  };
  const full = tokenizeDpoPair(tok, alpacaTemplate, pair, EOS, 1000)!;
  const n = splitResponse(tok, alpacaTemplate, pair.chosen, EOS).prompt.length;
  assert.equal(full.chosen.truncated, false);
  assert.deepEqual([...full.chosen.ids.slice(0, n)], [...full.rejected.ids.slice(0, n)]);
  assert.equal(full.chosen.targets.filter((t) => t !== -100).length, 'Blue, thanks!'.length + 1);
  assert.equal(full.rejected.targets.filter((t) => t !== -100).length, 'No.'.length + 1);
  const cut = tokenizeDpoPair(tok, alpacaTemplate, pair, EOS, 30)!;
  assert.equal(cut.chosen.truncated, true);
  assert.equal(cut.chosen.ids.length, 29); // 30 tokens: 16 of prompt, 14 of response
  assert.deepEqual([...cut.chosen.ids.slice(0, 16)], [...full.chosen.ids.slice(n - 16, n)]); // the prompt's end
  assert.match(tok.decode([...cut.chosen.ids.slice(0, 16)]), /### Response:\n$/);
  assert.equal(cut.chosen.targets.filter((t) => t !== -100).length, 14); // the whole response still learned
  assert.equal(cut.rejected.ids.length, 16 + 4 - 1);
  const tiny = tokenizeDpoPair(tok, alpacaTemplate, pair, EOS, 5)!; // the response alone is longer: one prompt token, response cut
  assert.equal(tiny.chosen.ids.length, 4);
  assert.equal(tiny.chosen.targets[0], tok.encode('B')[0]);
  const batch = dpoPairBatch([full, cut], EOS);
  assert.equal(batch.B, 4); // chosen rows, then rejected rows
  assert.deepEqual([...batch.ids.slice(2 * batch.T, 2 * batch.T + n)], [...full.rejected.ids.slice(0, n)]);
});
