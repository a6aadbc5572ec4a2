/**
 * KV-cache decoding equals the full forward: for GPT-2 and Llama (multi-head and grouped-query), the logits of one
 * forward over the whole sequence match (1e-5) those of a prefill followed by one token at a time through the
 * cache, for batch 1 (buffer views) and batch 2 (copies); lastOnly returns the last position's logits; exceeding
 * the cache capacity or the context length is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/create.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';

const configs: [string, ModelConfig][] = [
  ['gpt2', resolveModelConfig('char-tiny', { nLayer: 2, nEmbd: 32, vocabSize: 23, blockSize: 16 })],
  [
    'llama GQA 4:2',
    resolveModelConfig('llama-mini', { nLayer: 2, nEmbd: 32, nHead: 4, nKvHead: 2, vocabSize: 23, blockSize: 16 }),
  ],
  [
    'llama MHA, tied',
    resolveModelConfig('llama-mini', {
      nLayer: 2,
      nEmbd: 32,
      nHead: 4,
      nKvHead: 4,
      vocabSize: 23,
      blockSize: 16,
      tieEmbeddings: true,
    }),
  ],
];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Row-major (B, T) ids -> the columns [t0, t1) as (B, t1 - t0). */
function columns(ids: Int32Array, B: number, T: number, t0: number, t1: number): Int32Array {
  const out = new Int32Array(B * (t1 - t0));
  for (let b = 0; b < B; b++) out.set(ids.subarray(b * T + t0, b * T + t1), b * (t1 - t0));
  return out;
}

for (const [label, cfg] of configs) {
  for (const B of [1, 2]) {
    test(`prefill + cached single-token steps equal the full forward (${label}, B=${B})`, () => {
      const model = createModel(cfg, new Rng(3)).eval();
      const T = 12;
      const prefill = 5;
      const V = cfg.vocabSize;
      const rng = new Rng(11);
      const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
      const full = noGrad(() => model.forward(ids, B, T).logits.data); // (B, T, V)
      const cache = model.createCache(B, T);
      const got = new Float32Array(B * T * V);
      const place = (data: ArrayLike<number>, t0: number, n: number): void => {
        for (let b = 0; b < B; b++) for (let j = 0; j < n * V; j++) got[(b * T + t0) * V + j] = data[b * n * V + j]!;
      };
      noGrad(() => {
        place(model.forward(columns(ids, B, T, 0, prefill), B, prefill, null, { cache }).logits.data, 0, prefill);
        assert.equal(cache.length, prefill);
        for (let t = prefill; t < T; t++) {
          const { logits } = model.forward(columns(ids, B, T, t, t + 1), B, 1, null, { cache });
          assert.deepEqual(logits.shape, [B, 1, V]);
          place(logits.data, t, 1);
        }
      });
      assert.equal(cache.length, T);
      const d = maxAbsDiff(got, full);
      assert.ok(d <= 1e-5, `max |diff| ${d} > 1e-5`);
    });
  }

  test(`lastOnly returns the last position's logits (${label})`, () => {
    const model = createModel(cfg, new Rng(4)).eval();
    const B = 2;
    const T = 6;
    const V = cfg.vocabSize;
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % V);
    const full = model.forward(ids, B, T).logits.data;
    const last = model.forward(ids, B, T, null, { lastOnly: true }).logits;
    assert.deepEqual(last.shape, [B, 1, V]);
    const want = new Float32Array(B * V);
    for (let b = 0; b < B; b++) want.set(full.subarray((b * T + T - 1) * V, (b * T + T) * V), b * V);
    assert.ok(maxAbsDiff(last.data, want) <= 1e-6);
    // With a cache, lastOnly after a prefill gives the same row as the full forward.
    const cache = model.createCache(B, T);
    const viaCache = model.forward(ids, B, T, null, { cache, lastOnly: true }).logits;
    assert.ok(maxAbsDiff(viaCache.data, want) <= 1e-5);
  });
}

test('cache misuse is a clear error', () => {
  const cfg = configs[1]![1];
  const model = createModel(cfg, new Rng(0));
  assert.throws(() => model.createCache(1, 17), /capacity 17 exceeds the model's context length blockSize 16/);
  const cache = model.createCache(1, 4);
  model.forward(Int32Array.from([1, 2, 3]), 1, 3, null, { cache });
  assert.throws(
    () => model.forward(Int32Array.from([1, 2]), 1, 2, null, { cache }),
    /3 cached \+ 2 new positions exceed the cache capacity 4/,
  );
  assert.equal(cache.length, 3);
  assert.throws(
    () => model.forward(Int32Array.from([1, 2]), 2, 1, null, { cache }),
    /batch 2 differs from the cache's batch 1/,
  );
  const other = createModel(configs[0]![1], new Rng(0)).createCache(1, 4);
  assert.throws(
    () => model.forward(Int32Array.from([1]), 1, 1, null, { cache: other }),
    /the cache was made for 2 layers x 4 kv heads/,
  );
  assert.throws(
    () => model.forward(new Int32Array(17), 1, 17),
    /positions 0\.\.16 exceed the context length blockSize 16/,
  );
  assert.throws(
    () => model.forward(Int32Array.from([1, 2]), 1, 2, Int32Array.from([1, 2]), { lastOnly: true }),
    /lastOnly .* cannot take targets/,
  );
});
