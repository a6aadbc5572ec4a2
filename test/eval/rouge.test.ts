/** ROUGE-L and exact match against hand-computed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactMatch, lcsLength, rougeL } from '../../src/eval/rouge.ts';

test('lcsLength: table', () => {
  const cases: [string, string, number][] = [
    ['abcbdab', 'bdcaba', 4],
    ['', 'abc', 0],
    ['abc', 'abc', 3],
    ['abc', 'def', 0],
  ];
  for (const [a, b, want] of cases) assert.equal(lcsLength([...a], [...b]), want, `${a} vs ${b}`);
});

test('rougeL: table of precision, recall, F1', () => {
  const cases: [string, string, number, number][] = [
    // candidate, reference, precision, recall
    ['the cat sat on the mat', 'the cat sat on the mat', 1, 1],
    ['the cat was found under the bed', 'the cat was under the bed', 6 / 7, 1],
    ['a b c d e', 'a x c y e z', 3 / 5, 3 / 6],
    ['The Cat, sat!', 'the cat sat', 1, 1],
    ['police killed the gunman', 'the gunman killed police', 2 / 4, 2 / 4],
    ['completely different', 'nothing shared here', 0, 0],
    ['', 'anything', 0, 0],
  ];
  for (const [cand, ref, p, r] of cases) {
    const got = rougeL(cand, ref);
    const f1 = p + r === 0 ? 0 : (2 * p * r) / (p + r);
    assert.ok(
      Math.abs(got.precision - p) < 1e-12 && Math.abs(got.recall - r) < 1e-12 && Math.abs(got.f1 - f1) < 1e-12,
      `${cand} | ${ref}: ${JSON.stringify(got)}`,
    );
  }
});

test('exactMatch: whitespace-insensitive, case-sensitive', () => {
  assert.equal(exactMatch('  Paris\n', 'Paris'), true);
  assert.equal(exactMatch('a  b', 'a b'), true);
  assert.equal(exactMatch('paris', 'Paris'), false);
});
