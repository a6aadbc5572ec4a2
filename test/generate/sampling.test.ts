/**
 * Choosing the next token: greedy is the argmax (after the repetition penalty), top-k = 1 equals greedy at any
 * temperature, draws follow the distribution and never pick a filtered token, a seed reproduces a run, and bad
 * options are one clear error naming the option.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxRow, drawFrom, resolveSampling, sampleNext } from '../../src/generate/sampling.ts';
import { Rng } from '../../src/tensor/random.ts';
import { UserError } from '../../src/util/user-error.ts';

const logits = Float32Array.from([0.1, 2.5, -1, 2.4, 0.3, 1.9]);

test('greedy picks the argmax (first on ties); the repetition penalty can change it', () => {
  const greedy = resolveSampling({ temperature: 0 });
  assert.equal(sampleNext(logits, [], greedy, new Rng(0)), 1);
  assert.equal(argmaxRow([3, 5, 5, 1]), 1);
  assert.equal(sampleNext(logits, [1], resolveSampling({ temperature: 0, repetitionPenalty: 1.2 }), new Rng(0)), 3);
  assert.equal(logits[1], Math.fround(2.5), "the caller's row is not modified");
});

test('top-k = 1 equals greedy for any temperature and seed', () => {
  for (let seed = 0; seed < 20; seed++) {
    const opts = resolveSampling({ temperature: 0.5 + seed, topK: 1 });
    assert.equal(sampleNext(logits, [], opts, new Rng(seed)), 1);
  }
});

test('draws follow the softmax and stay inside the top-k / top-p sets', () => {
  const rng = new Rng(123);
  const l = Float32Array.from([0, Math.log(2), Math.log(3)]); // probabilities 1/6, 2/6, 3/6
  const counts = [0, 0, 0];
  const opts = resolveSampling({});
  const n = 30000;
  for (let i = 0; i < n; i++) counts[sampleNext(l, [], opts, rng)]!++;
  counts.forEach((c, i) => {
    assert.ok(Math.abs(c / n - (i + 1) / 6) < 0.015, `token ${i}: ${c / n}`);
  });

  const topk = resolveSampling({ topK: 2, temperature: 3 });
  const topp = resolveSampling({ topP: 0.6 }); // softmax of `logits`: 0.372 (id 1) + 0.337 (id 3) >= 0.6
  const seenK = new Set<number>();
  const seenP = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    seenK.add(sampleNext(logits, [], topk, rng));
    seenP.add(sampleNext(logits, [], topp, rng));
  }
  assert.deepEqual([...seenK].sort(), [1, 3]);
  assert.deepEqual([...seenP].sort(), [1, 3]);
});

test('the same seed reproduces a sequence of draws; another seed differs', () => {
  const opts = resolveSampling({ temperature: 1.5, topP: 0.95 });
  const run = (seed: number): number[] => {
    const rng = new Rng(seed);
    return Array.from({ length: 64 }, () => sampleNext(logits, [], opts, rng));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('drawFrom ignores zero-probability tokens and rejects an empty distribution', () => {
  const rng = new Rng(1);
  for (let i = 0; i < 200; i++) assert.equal(drawFrom(Float32Array.from([0, 0, 1, 0]), rng), 2);
  assert.throws(() => drawFrom(new Float32Array(3), rng), /no token with positive probability/);
});

test('bad sampling options are user errors naming the option', () => {
  const cases: [object, RegExp][] = [
    [{ temperature: -1 }, /temperature must be a number >= 0.*received -1/],
    [{ topK: 1.5 }, /topK must be an integer >= 0.*received 1.5/],
    [{ topP: 0 }, /topP must be in \(0, 1\].*received 0/],
    [{ topP: 1.5 }, /topP must be in \(0, 1\]/],
    [{ repetitionPenalty: 0 }, /repetitionPenalty must be a number > 0/],
    [{ frequencyPenalty: 2.5 }, /frequencyPenalty must be a number in \[-2, 2\].*received 2.5/],
    [{ presencePenalty: Number.NaN }, /presencePenalty must be a number in \[-2, 2\].*received NaN/],
  ];
  for (const [opts, re] of cases) {
    assert.throws(
      () => resolveSampling(opts),
      (e: Error) => re.test(e.message) && e instanceof UserError,
    );
  }
  assert.deepEqual(resolveSampling(), {
    temperature: 1,
    topK: 0,
    topP: 1,
    repetitionPenalty: 1,
    frequencyPenalty: 0,
    presencePenalty: 0,
  });
});

test('frequency and presence penalties count generated tokens: greedy moves off a repeated argmax', () => {
  // logits: id 1 (2.5) leads id 3 (2.4) by 0.1.
  const counts = new Map([[1, 3]]);
  const plain = resolveSampling({ temperature: 0 });
  assert.equal(sampleNext(logits, [], plain, new Rng(0), counts), 1); // no penalty: counts change nothing
  // 3 * 0.05 = 0.15 > 0.1: id 3 wins; 0.03 * 3 = 0.09 < 0.1: id 1 stays.
  assert.equal(
    sampleNext(logits, [], resolveSampling({ temperature: 0, frequencyPenalty: 0.05 }), new Rng(0), counts),
    3,
  );
  assert.equal(
    sampleNext(logits, [], resolveSampling({ temperature: 0, frequencyPenalty: 0.03 }), new Rng(0), counts),
    1,
  );
  // presence: once, whatever the count.
  assert.equal(
    sampleNext(logits, [], resolveSampling({ temperature: 0, presencePenalty: 0.11 }), new Rng(0), counts),
    3,
  );
  assert.equal(
    sampleNext(logits, [], resolveSampling({ temperature: 0, presencePenalty: 0.09 }), new Rng(0), counts),
    1,
  );
  // A negative penalty favours the repeated token: id 3 generated once, -0.2 lifts it above id 1.
  const c3 = new Map([[3, 1]]);
  assert.equal(sampleNext(logits, [], resolveSampling({ temperature: 0, presencePenalty: -0.2 }), new Rng(0), c3), 3);
});
