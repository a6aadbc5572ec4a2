/** Classification data: TSV split on the first tab, CSV and JSONL parsing, errors, stratified split, balancing, padding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  balance,
  classWeights,
  encodeExample,
  padBatch,
  parseClassifyData,
  stratifiedSplit,
} from '../../src/finetune/classify-data.ts';

test('TSV splits on the first tab only; CSV with quotes; JSONL', () => {
  const tsv = parseClassifyData('ham\thello\tthere\nspam\tWIN "now"\n\n', 'x.tsv');
  assert.deepEqual(tsv, [
    { label: 'ham', text: 'hello\tthere' },
    { label: 'spam', text: 'WIN "now"' },
  ]);
  const csv = parseClassifyData('text,label\n"a, ""b""",pos\nc,neg\n', 'x.csv');
  assert.deepEqual(csv, [
    { text: 'a, "b"', label: 'pos' },
    { text: 'c', label: 'neg' },
  ]);
  const jsonl = parseClassifyData('{"text":"hi","label":1}\n{"text":"yo","label":"0"}\n', 'x.jsonl');
  assert.deepEqual(jsonl, [
    { text: 'hi', label: '1' },
    { text: 'yo', label: '0' },
  ]);
});

test('mistakes name the file and line', () => {
  assert.throws(() => parseClassifyData('ham\tok\nno tab here\n', 'd.tsv'), /d\.tsv:2: expected "label<TAB>text"/);
  assert.throws(
    () => parseClassifyData('{"text":"a","label":"x"}\n{"text":3,"label":"x"}\n', 'd.jsonl'),
    /d\.jsonl:2: field "text" must be a string/,
  );
  assert.throws(() => parseClassifyData('body,kind\na,b\n', 'd.csv'), /d\.csv:1: header must name "text" and "label"/);
  assert.throws(() => parseClassifyData('\n', 'e.tsv'), /e\.tsv: no examples/);
});

const data = [
  ...Array.from({ length: 80 }, (_, i) => ({ text: `h${i}`, label: 'ham' })),
  ...Array.from({ length: 20 }, (_, i) => ({ text: `s${i}`, label: 'spam' })),
];
const count = (xs: { label: string }[], l: string) => xs.filter((x) => x.label === l).length;

test('stratified split keeps each class share in every part, disjoint and complete', () => {
  const s = stratifiedSplit(data, 0.1, 0.2, 3);
  assert.deepEqual([count(s.test, 'ham'), count(s.test, 'spam')], [16, 4]);
  assert.deepEqual([count(s.val, 'ham'), count(s.val, 'spam')], [8, 2]);
  assert.deepEqual([count(s.train, 'ham'), count(s.train, 'spam')], [56, 14]);
  const texts = [...s.train, ...s.val, ...s.test].map((d) => d.text).sort();
  assert.deepEqual(texts, data.map((d) => d.text).sort());
  assert.deepEqual(stratifiedSplit(data, 0.1, 0.2, 3), s, 'same seed, same split');
  assert.notDeepEqual(stratifiedSplit(data, 0.1, 0.2, 4).test, s.test);
});

test('undersampling, oversampling and class weights', () => {
  const under = balance(data, 'undersample', 1);
  assert.deepEqual([count(under, 'ham'), count(under, 'spam')], [20, 20]);
  assert.equal(new Set(under.map((d) => d.text)).size, 40, 'no repeats when undersampling');
  const over = balance(data, 'oversample', 1);
  assert.deepEqual([count(over, 'ham'), count(over, 'spam')], [80, 80]);
  assert.equal(new Set(over.filter((d) => d.label === 'spam').map((d) => d.text)).size, 20, 'every spam kept');
  assert.deepEqual(classWeights(data, ['ham', 'spam']), [100 / (2 * 80), 100 / (2 * 20)]);
});

test('truncation and right padding', () => {
  const enc = (t: string) => [...t].map((c) => c.charCodeAt(0));
  assert.deepEqual(encodeExample(enc, 'abcdef', 4, 0), [97, 98, 99, 100]);
  assert.deepEqual(encodeExample(enc, '', 4, 0), [0]);
  const { ids, lengths, T } = padBatch([[5, 6, 7], [8]], 0);
  assert.equal(T, 3);
  assert.deepEqual(lengths, [3, 1]);
  assert.deepEqual([...ids], [5, 6, 7, 8, 0, 0]);
});
