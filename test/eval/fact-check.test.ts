/**
 * Fact scoring: a continuation answers a probe only when it starts with the whole answer word; formatting puts
 * trained and held-out phrasings side by side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answers, formatFactScores } from '../../src/eval/fact-check.ts';

test('answers: the whole word, after optional whitespace', () => {
  assert.equal(answers(' Paris.', 'Paris'), true);
  assert.equal(answers(' Paris', 'Paris'), true);
  assert.equal(answers('\nParis is', 'Paris'), true);
  assert.equal(answers(' Parisian', 'Paris'), false);
  assert.equal(answers(' Par', 'Paris'), false);
  assert.equal(answers(' the capital', 'Paris'), false);
  assert.equal(answers(' east,', 'east'), true);
});

test('formatFactScores: one line per kind, trained beside held-out', () => {
  const lines = formatFactScores([
    { kind: 'capital', heldOut: false, correct: 150, total: 150, misses: [] },
    { kind: 'capital', heldOut: true, correct: 15, total: 60, misses: [] },
    { kind: 'sun', heldOut: false, correct: 5, total: 6, misses: [] },
  ]);
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^ {2}capital +150\/150 \(100%\) +15\/60 \( 25%\)$/);
  assert.match(lines[2]!, /^ {2}sun +5\/6 \( 83%\) +-$/);
});
