/**
 * Quality filters, one at a time: each rule drops the document built to break it (with its reason), passes an
 * ordinary paragraph, and follows its configured threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  charRatios,
  DEFAULT_FILTERS,
  qualityReason,
  repeatedLineFraction,
  repeatedNgramFraction,
  words,
} from '../../src/data/filters.ts';

const PROSE =
  'The sun rises in the east and sets in the west. Farmers rise early, feed the hens, and walk to the fields.';

test('an ordinary paragraph passes every filter', () => {
  assert.equal(qualityReason(PROSE), null);
});

test('length: too few words and too many characters', () => {
  assert.equal(qualityReason('two words'), 'too_short');
  assert.equal(qualityReason('two words', { ...DEFAULT_FILTERS, minWords: 2 }), null);
  assert.equal(qualityReason(PROSE, { ...DEFAULT_FILTERS, maxChars: 50 }), 'too_long');
});

test('symbol ratio: markup and symbol soup are dropped, prose punctuation is not a symbol', () => {
  const soup = '### $$$ @@@ {{{ }}} === +++ ||| ~~~ <<< >>> word and more words here';
  assert.ok(charRatios(soup).symbol > 0.3);
  assert.equal(qualityReason(soup), 'symbol_ratio');
  assert.equal(charRatios('Hello, world! "Yes" (no) - maybe; fine: ok? it\u2019s \u201cquoted\u201d\u2026').symbol, 0);
  assert.equal(qualityReason(soup, { ...DEFAULT_FILTERS, maxSymbolRatio: 1 }), null);
});

test('digit ratio: tables of numbers are dropped', () => {
  const table = 'id 1029384 4738291 3847561 9182736 5647382 1928374 value';
  assert.ok(charRatios(table).digit > 0.3);
  assert.equal(qualityReason(table), 'digit_ratio');
  assert.equal(qualityReason(table, { ...DEFAULT_FILTERS, maxDigitRatio: 0.9 }), null);
});

test('repeated lines: boilerplate repeated across lines is dropped', () => {
  const text = [
    'Click here to subscribe now',
    'Real content about birds and trees',
    'Click here to subscribe now',
    'Click here to subscribe now',
  ].join('\n');
  assert.equal(repeatedLineFraction(text), 0.5);
  assert.equal(repeatedLineFraction('a\n\n\nb'), 0, 'blank lines do not count');
  assert.equal(qualityReason(text), 'repeated_lines');
  assert.equal(qualityReason(text, { ...DEFAULT_FILTERS, maxRepeatedLines: 0.5, maxRepeatedNgrams: 1 }), null);
});

test('repeated n-grams: a phrase looping within a line is dropped', () => {
  const loop = `${'buy cheap watches online today '.repeat(6)}and a few other words at the end`;
  assert.ok(repeatedNgramFraction(words(loop), 5) > 0.7);
  assert.equal(repeatedNgramFraction(words(PROSE), 5), 0);
  assert.equal(repeatedNgramFraction(['a', 'b'], 5), 0, 'fewer words than n');
  assert.equal(qualityReason(loop), 'repeated_ngrams');
  assert.equal(qualityReason(loop, { ...DEFAULT_FILTERS, maxRepeatedNgrams: 0.95 }), null);
});
