/**
 * The cleaning pass: normalisation, exact deduplication, MinHash near-duplicate removal (a document with a few
 * words changed is caught, distinct documents are kept) and the report of kept/dropped documents per reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cleaner, normalizeText, resolveCleanOptions } from '../../src/data/clean.ts';
import { DEFAULT_FILTERS } from '../../src/data/filters.ts';
import { estimatedJaccard, minhashSignature, NearDupIndex } from '../../src/data/minhash.ts';
import { Rng } from '../../src/tensor/random.ts';
import { randomDoc, randomWord } from './helpers.ts';

test('normalizeText: NFC, line ends, exotic spaces, zero-width characters, trailing spaces, blank-line runs', () => {
  assert.equal(normalizeText('Cafe\u0301'), 'Caf\u00e9');
  assert.equal(normalizeText('a\r\nb\rc'), 'a\nb\nc');
  assert.equal(normalizeText('a\u00a0b\u3000c\u200bd\ufeff'), 'a b cd');
  assert.equal(normalizeText('  x  \t\n\n\n\n  y  '), 'x\n\n  y');
});

test('exact dedup drops a repeat of the normalised text, across sources, and counts it', () => {
  const c = new Cleaner({ nearDedup: false });
  assert.deepEqual(c.process('The cat sat on the mat today.'), { kept: true, text: 'The cat sat on the mat today.' });
  assert.deepEqual(c.process('The cat sat on the mat today.  \r\n'), { kept: false, reason: 'duplicate' });
  assert.equal(c.process('The dog sat on the mat today.').kept, true);
  assert.deepEqual(c.process('   '), { kept: false, reason: 'empty' });
  assert.deepEqual(c.report(), {
    documents: 4,
    kept: 2,
    dropped: { duplicate: 1, empty: 1 },
    pii: { email: 0, phone: 0, ipv4: 0, ipv6: 0 },
  });
});

function mutate(doc: string, positions: number[], rng: Rng): string {
  const ws = doc.split(' ');
  for (const p of positions) ws[p] = `x${randomWord(rng)}`;
  return ws.join(' ');
}

test('MinHash: the estimate tracks the true Jaccard similarity of shingle sets', () => {
  const rng = new Rng(3);
  const a = randomDoc(rng, 300);
  const b = mutate(a, [40, 140, 240], rng);
  const c = randomDoc(rng, 300);
  const sa = minhashSignature(a);
  // 3 changed words remove at most 15 of 296 5-word shingles and add as many: Jaccard >= 281/311 = 0.90.
  assert.ok(estimatedJaccard(sa, minhashSignature(b)) > 0.8, `near copy: ${estimatedJaccard(sa, minhashSignature(b))}`);
  assert.ok(estimatedJaccard(sa, minhashSignature(c)) < 0.1, `distinct: ${estimatedJaccard(sa, minhashSignature(c))}`);
  assert.equal(estimatedJaccard(sa, minhashSignature(a.toUpperCase())), 1, 'case does not matter');
});

test('near-duplicate removal: a copy with a few words changed is dropped, distinct documents and a heavy rewrite are kept', () => {
  const rng = new Rng(7);
  const docs = Array.from({ length: 40 }, () => randomDoc(rng, 200));
  const c = new Cleaner({ filters: false });
  for (const d of docs) assert.equal(c.process(d).kept, true, 'distinct documents are kept');
  assert.deepEqual(c.process(mutate(docs[5]!, [10, 90, 170], rng)), { kept: false, reason: 'near_duplicate' });
  assert.deepEqual(c.process(`Preface. ${docs[12]!}`), { kept: false, reason: 'near_duplicate' });
  // Every 4th word changed: about a fifth of the shingles survive, far below the 0.8 threshold.
  const heavy = mutate(
    docs[20]!,
    Array.from({ length: 50 }, (_, i) => i * 4),
    rng,
  );
  assert.equal(c.process(heavy).kept, true);
  const r = c.report();
  assert.equal(r.kept, 41);
  assert.deepEqual(r.dropped, { near_duplicate: 2 });
});

test('the near-duplicate threshold is configurable', () => {
  const rng = new Rng(11);
  const a = randomDoc(rng, 200);
  const b = mutate(
    a,
    Array.from({ length: 20 }, (_, i) => i * 10),
    rng,
  );
  const strict = new NearDupIndex({ numPerm: 128, bands: 32, shingle: 5, threshold: 0.95 });
  assert.equal(strict.checkAndAdd(minhashSignature(a)), false);
  assert.equal(strict.checkAndAdd(minhashSignature(b)), false, 'not a near duplicate at 0.95');
  // About 96 of 296 shingles shared (J ~ 0.32): finding it needs more, shorter bands (2 rows) as well.
  const loose = new NearDupIndex({ numPerm: 128, bands: 64, shingle: 5, threshold: 0.2 });
  loose.checkAndAdd(minhashSignature(a));
  assert.equal(loose.checkAndAdd(minhashSignature(b)), true, 'a near duplicate at 0.2');
  assert.throws(() => new NearDupIndex({ numPerm: 100, bands: 32, shingle: 5, threshold: 0.8 }), /multiple of bands/);
});

test('cleaning applies quality filters and PII scrubbing with counts in the report', () => {
  const c = new Cleaner({ pii: true });
  assert.deepEqual(c.process('hi'), { kept: false, reason: 'too_short' });
  const r = c.process('Write to jane@example.org or call +1 555 010 9999 about the server.');
  assert.deepEqual(r, { kept: true, text: 'Write to <EMAIL> or call <PHONE> about the server.' });
  assert.deepEqual(c.report().pii, { email: 1, phone: 1, ipv4: 0, ipv6: 0 });
  assert.deepEqual(c.report().dropped, { too_short: 1 });
});

test('resolveCleanOptions: partial settings keep the other defaults; unknown keys and wrong types are errors', () => {
  const o = resolveCleanOptions({ dedup: false, filters: { minWords: 10 }, minhash: { threshold: 0.9 } });
  assert.equal(o.dedup, false);
  assert.equal(o.nearDedup, true);
  assert.deepEqual(o.filters, { ...DEFAULT_FILTERS, minWords: 10 });
  assert.equal(o.minhash.threshold, 0.9);
  assert.equal(o.minhash.numPerm, 128);
  assert.equal(resolveCleanOptions({ filters: false }).filters, false);
  assert.throws(() => resolveCleanOptions({ dedupe: true } as never), {
    message: 'clean: unknown key "dedupe" (expected one of: normalize, dedup, nearDedup, pii)',
  });
  assert.throws(
    () => resolveCleanOptions({ filters: { minWord: 3 } } as never),
    /clean\.filters: unknown key "minWord"/,
  );
  assert.throws(
    () => resolveCleanOptions({ filters: { minWords: '3' } } as never),
    /clean\.filters\.minWords: expected a number, received "3"/,
  );
  assert.throws(() => resolveCleanOptions({ pii: 'yes' } as never), /clean\.pii: expected true or false/);
});
