/**
 * Generation on tiny random GPT-2 and Llama models: greedy decoding with the KV cache gives the same ids as
 * re-running the full forward at every step (also across a context slide), top-k = 1 equals greedy, a seed
 * reproduces a sampled run, stop strings and EOS end generation with the right text, a long prompt is cropped
 * with a note, and the model's training flag and grad mode are restored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, generateTokens } from '../../src/generate/generate.ts';
import { argmaxRow } from '../../src/generate/sampling.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { Arch, LanguageModel } from '../../src/models/model.ts';
import { isGradEnabled, noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { UserError } from '../../src/util/user-error.ts';

const CHARS = 'abcdefghijklmnopqrstuvwxyz .,!?ABCDEFGHIJ'.split(''); // 41 characters = the model vocabulary

function tinyModel(arch: Arch, blockSize = 24): LanguageModel {
  const cfg = completeModelConfig({ arch, vocabSize: CHARS.length, blockSize, nLayer: 2, nHead: 2, nEmbd: 16 });
  const model = createModel(cfg, new Rng(arch === 'gpt2' ? 11 : 12));
  // Larger weights than the 0.02 init, so the logits are far from uniform and the argmax is well separated.
  for (const p of model.parameters()) if (p.ndim >= 2) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 12;
  return model;
}

/** Greedy decoding without a cache (full forward over the window each step), with the same slide policy. */
function greedyFullForward(model: LanguageModel, prompt: number[], n: number): number[] {
  const { blockSize } = model.config;
  const keep = Math.floor(blockSize / 2);
  const history = [...prompt];
  let start = Math.max(0, prompt.length - blockSize);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (history.length - start > blockSize) start = history.length - keep;
    const window = Int32Array.from(history.slice(start));
    const logits = noGrad(() => model.forward(window, 1, window.length).logits);
    const V = model.config.vocabSize;
    const id = argmaxRow(logits.data.subarray(logits.size - V));
    history.push(id);
    out.push(id);
  }
  return out;
}

for (const arch of ['gpt2', 'llama'] as const) {
  test(`${arch}: greedy with the KV cache equals full-forward greedy, across a context slide`, () => {
    const model = tinyModel(arch);
    const prompt = [3, 1, 4, 1, 5, 9, 2, 6];
    const n = 40; // prompt 8 + 40 > blockSize 24: slides twice
    const notes: string[] = [];
    const cached = generate(model, prompt, { temperature: 0, maxNewTokens: n, onNote: (m) => notes.push(m) });
    assert.equal(cached.stopReason, 'length');
    assert.deepEqual(cached.ids, greedyFullForward(model, prompt, n));
    assert.equal(new Set(cached.ids).size > 1, true, 'the model does not just repeat one token');
    assert.deepEqual(notes, ['context full (24 tokens): continuing from the last 12 tokens']);
  });
}

test('onContextFull stop: ends when the cache is full, with the tokens a full context allows', () => {
  const model = tinyModel('gpt2');
  const prompt = [1, 2, 3, 4, 5];
  const r = generate(model, prompt, { temperature: 0, maxNewTokens: 100, onContextFull: 'stop' });
  assert.equal(r.stopReason, 'context');
  assert.equal(r.ids.length, model.config.blockSize - prompt.length + 1);
  assert.deepEqual(r.ids, greedyFullForward(model, prompt, r.ids.length));
});

test('top-k = 1 equals greedy; the same seed reproduces sampling; another seed differs', () => {
  const model = tinyModel('llama');
  const prompt = [7, 8, 9];
  const greedy = generate(model, prompt, { temperature: 0, maxNewTokens: 20 }).ids;
  for (const seed of [0, 1, 2])
    assert.deepEqual(generate(model, prompt, { temperature: 1.3, topK: 1, seed, maxNewTokens: 20 }).ids, greedy);
  const sample = (seed: number): number[] => generate(model, prompt, { temperature: 2, seed, maxNewTokens: 30 }).ids;
  assert.deepEqual(sample(5), sample(5));
  assert.notDeepEqual(sample(5), sample(6));
  const nucleus = (seed: number): number[] =>
    generate(model, prompt, { temperature: 1, topP: 0.9, topK: 10, repetitionPenalty: 1.3, seed, maxNewTokens: 30 })
      .ids;
  assert.deepEqual(nucleus(3), nucleus(3));
});

test('stop strings cut the text before the stop string; EOS ends without being emitted', () => {
  const model = tinyModel('gpt2');
  const tok = new CharTokenizer(CHARS);
  const prompt = tok.encode('the sun rises');
  // Sampled (seeded), so the text varies; the same seed consumes the same draws with or without a stop string.
  const opts = { temperature: 1, seed: 4, maxNewTokens: 30, tokenizer: tok };
  const full = generate(model, prompt, opts);
  assert.equal(full.text, tok.decode(full.ids));
  const stop = full.text.slice(10, 12);
  const at = full.text.indexOf(stop);
  assert.ok(at > 0, `the stop string ${JSON.stringify(stop)} first occurs inside ${JSON.stringify(full.text)}`);
  const pieces: string[] = [];
  const cut = generate(model, prompt, { ...opts, stop: ['\u0000never', stop], onText: (t) => pieces.push(t) });
  assert.equal(cut.stopReason, 'stop');
  assert.equal(cut.text, full.text.slice(0, at));
  assert.equal(pieces.join(''), cut.text);
  assert.deepEqual(cut.ids, full.ids.slice(0, at + stop.length));

  const eos = full.ids[8]!;
  const first = full.ids.indexOf(eos);
  assert.ok(first > 0);
  const e = generate(model, prompt, { ...opts, eosId: eos });
  assert.equal(e.stopReason, 'eos');
  assert.deepEqual(e.ids, full.ids.slice(0, first));
  assert.equal(e.text, tok.decode(full.ids.slice(0, first)));
});

test('a prompt longer than the context is cropped from the left with a note', () => {
  const model = tinyModel('gpt2', 16);
  const long = Array.from({ length: 30 }, (_, i) => (i * 7) % CHARS.length);
  const notes: string[] = [];
  const a = generate(model, long, { temperature: 0, maxNewTokens: 5, onNote: (m) => notes.push(m) });
  assert.match(notes[0]!, /prompt of 30 tokens cropped from the left to the model's context of 16 tokens/);
  assert.equal(a.promptTokens, 16);
  assert.deepEqual(a.ids, generate(model, long.slice(14), { temperature: 0, maxNewTokens: 5 }).ids);
});

test('the training flag and grad mode are restored, also when the iterator is abandoned', () => {
  const model = tinyModel('gpt2');
  model.train();
  let count = 0;
  for (const id of generateTokens(model, [1, 2], { temperature: 0, maxNewTokens: 10 })) {
    assert.ok(Number.isInteger(id));
    assert.equal(model.training, false);
    assert.equal(isGradEnabled(), true, 'grad mode is not left off between tokens');
    if (++count === 3) break;
  }
  assert.equal(model.training, true);
  model.eval();
  generate(model, [1], { maxNewTokens: 2 });
  assert.equal(model.training, false);
});

test('user mistakes are clear errors', () => {
  const model = tinyModel('gpt2');
  const isUser = (re: RegExp) => (e: Error) => re.test(e.message) && e instanceof UserError;
  assert.throws(() => generate(model, [], {}), isUser(/the prompt is empty/));
  assert.throws(() => generate(model, [1, 99], {}), isUser(/prompt token 1 is 99, expected an id in \[0, 41\)/));
  assert.throws(() => generate(model, [1], { stop: ['x'] }), isUser(/stop strings need a tokenizer/));
  assert.throws(() => generate(model, [1], { maxNewTokens: -1 }), isUser(/maxNewTokens must be an integer >= 0/));
  assert.deepEqual(generate(model, [1], { maxNewTokens: 0 }).ids, []);
});
