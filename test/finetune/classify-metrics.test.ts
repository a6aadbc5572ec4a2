/** Classification metrics against a confusion table worked out by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationReport, formatClassificationReport, reportFields } from '../../src/finetune/metrics.ts';

test('accuracy, precision, recall, F1 and confusion from a hand-made table', () => {
  // true ham (0): 6 predicted ham, 2 predicted spam; true spam (1): 1 predicted ham, 3 predicted spam
  const truth = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
  const pred = [0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1];
  const r = classificationReport(truth, pred, ['ham', 'spam']);
  assert.deepEqual(r.confusion, [
    [6, 2],
    [1, 3],
  ]);
  assert.equal(r.accuracy, 9 / 12);
  const [ham, spam] = r.perClass;
  assert.equal(ham!.precision, 6 / 7);
  assert.equal(ham!.recall, 6 / 8);
  assert.ok(Math.abs(ham!.f1 - (2 * (6 / 7) * (6 / 8)) / (6 / 7 + 6 / 8)) < 1e-12);
  assert.equal(spam!.precision, 3 / 5);
  assert.equal(spam!.recall, 3 / 4);
  assert.ok(Math.abs(spam!.f1 - 2 / 3) < 1e-12);
  assert.deepEqual([ham!.support, spam!.support], [8, 4]);
  assert.equal(reportFields(r, 'test').test_confusion, '[[6,2],[1,3]]');
  assert.match(formatClassificationReport(r), /accuracy 75\.00% on 12 examples/);
});

test('a class never predicted has precision and F1 0, not NaN', () => {
  const r = classificationReport([0, 1, 1], [0, 0, 0], ['a', 'b']);
  assert.deepEqual([r.perClass[1]!.precision, r.perClass[1]!.recall, r.perClass[1]!.f1], [0, 0, 0]);
  assert.throws(() => classificationReport([0], [0, 1], ['a', 'b']), /1 true labels but 2 predictions/);
});
