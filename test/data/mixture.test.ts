/**
 * Mixtures: the config parser (unknown keys are an error naming the key), the plan (weights become token targets
 * and epochs), and prepareData with a fixed seed writing training token shares within a tolerance of the weights,
 * repeating the small source and subsampling the large one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMixture, planMixture, sampleDocuments } from '../../src/data/mixture.ts';
import { prepareData } from '../../src/data/prepare.ts';
import { Rng } from '../../src/tensor/random.ts';
import { randomDoc, tempDir } from './helpers.ts';

test('parseMixture: sources, options and errors naming the key', () => {
  const cfg = parseMixture(
    '{"sources":[{"name":"web","path":"w/*.jsonl","field":"body","weight":0.6},{"name":"books","path":"b","weight":0.4,"paragraphs":true}],"val_fraction":0.1,"seed":3}',
    'mix.json',
  );
  assert.deepEqual(cfg, {
    sources: [
      { name: 'web', path: 'w/*.jsonl', field: 'body', weight: 0.6 },
      { name: 'books', path: 'b', paragraphs: true, weight: 0.4 },
    ],
    valFraction: 0.1,
    seed: 3,
  });
  assert.throws(() => parseMixture('{"sources":[{"path":"a"}],"val_fracton":0.1}', 'mix.json'), {
    message:
      'mix.json: unknown key "val_fracton" (expected one of: sources, val_fraction, val_split, seed, train_tokens)',
  });
  assert.equal(parseMixture('{"sources":[{"path":"a"}],"val_split":"tail"}', 'mix.json').valSplit, 'tail');
  assert.throws(
    () => parseMixture('{"sources":[{"path":"a"}],"val_split":"end"}', 'mix.json'),
    /val_split: expected "document" or "tail", received "end"/,
  );
  assert.throws(
    () => parseMixture('{"sources":[{"path":"a","wieght":1}]}', 'mix.json'),
    /mix\.json: sources\[0\]: unknown key "wieght"/,
  );
  assert.throws(
    () => parseMixture('{"sources":[{"path":"a","weight":1},{"path":"b"}]}', 'mix.json'),
    /give every source a "weight" or none \(1 of 2/,
  );
  assert.throws(
    () => parseMixture('{"sources":[{"path":"a","weight":-1}]}', 'mix.json'),
    /sources\[0\]\.weight: expected a number in \[0, /,
  );
  assert.throws(
    () => parseMixture('{"sources":[{"path":"a"},{"path":"a"}]}', 'mix.json'),
    /"a" is used by another source/,
  );
  assert.throws(() => parseMixture('{"sources":[]', 'mix.json'), /mix\.json: not valid JSON/);
});

test('planMixture: targets follow the weights, epochs above 1 repeat and below 1 subsample', () => {
  const plan = planMixture([
    { name: 'small', weight: 3, availableTokens: 1000 },
    { name: 'big', weight: 1, availableTokens: 9000 },
  ]);
  assert.deepEqual(
    plan.map((p) => [p.weight, p.targetTokens, p.epochs]),
    [
      [0.75, 7500, 7.5],
      [0.25, 2500, 2500 / 9000],
    ],
  );
  const natural = planMixture(
    [
      { name: 'a', availableTokens: 10 },
      { name: 'b', availableTokens: 30 },
    ],
    80,
  );
  assert.deepEqual(
    natural.map((p) => [p.weight, p.targetTokens, p.epochs]),
    [
      [null, 20, 2],
      [null, 60, 2],
    ],
  );
});

test('sampleDocuments: whole epochs plus a random remainder near the target', () => {
  const docTokens = Array.from({ length: 50 }, (_, i) => 10 + (i % 7));
  const total = docTokens.reduce((a, b) => a + b, 0);
  const picks = sampleDocuments(docTokens, Math.round(2.5 * total), new Rng(1));
  const got = Array.from(picks).reduce((a, i) => a + docTokens[i]!, 0);
  assert.ok(Math.abs(got - 2.5 * total) <= 16, `${got} vs ${2.5 * total}`);
  const counts = new Array<number>(50).fill(0);
  for (const i of picks) counts[i]!++;
  assert.ok(
    counts.every((c) => c === 2 || c === 3),
    'every document two or three times',
  );
  assert.deepEqual(sampleDocuments(docTokens, 0, new Rng(1)), new Uint32Array(0));
});

test('prepareData with a weighted mixture: written token shares match the weights (seed fixed)', async () => {
  const dir = tempDir('mix');
  const rng = new Rng(2);
  writeFileSync(
    join(dir, 'small.jsonl'),
    Array.from({ length: 40 }, () => JSON.stringify({ text: randomDoc(rng, 12) })).join('\n'),
  );
  writeFileSync(
    join(dir, 'big.jsonl'),
    Array.from({ length: 400 }, () => JSON.stringify({ text: randomDoc(rng, 12) })).join('\n'),
  );
  const report = await prepareData({
    sources: [
      { name: 'small', path: join(dir, 'small.jsonl'), weight: 0.6 },
      { name: 'big', path: join(dir, 'big.jsonl'), weight: 0.4 },
    ],
    out: join(dir, 'out'),
    tokenizer: 'char',
    valFraction: 0,
    seed: 1,
    clean: { nearDedup: false },
  });
  const [small, big] = report.meta.sources;
  assert.ok(Math.abs(small!.share - 0.6) < 0.02, `small share ${small!.share}`);
  assert.ok(Math.abs(big!.share - 0.4) < 0.02, `big share ${big!.share}`);
  assert.ok(small!.epochs > 5 && small!.epochs < 7, `the small source repeats: ${small!.epochs} epochs`);
  assert.ok(big!.epochs > 0.4 && big!.epochs < 0.48, `the big source is subsampled: ${big!.epochs} epochs`);
  assert.equal(small!.trainTokens + big!.trainTokens, report.meta.splits.train.tokens);
  assert.ok(
    Math.abs(report.meta.splits.train.tokens - (small!.availableTokens + big!.availableTokens)) < 40,
    'the total defaults to the available tokens',
  );
});
