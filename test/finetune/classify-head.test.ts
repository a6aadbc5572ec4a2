/** The classification head reads the last real token (or the mean of real tokens): padding never changes a row's logits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceClassifier, type Pooling } from '../../src/finetune/classifier.ts';
import { padBatch } from '../../src/finetune/classify-data.ts';
import { createModel } from '../../src/models/create.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import type { Arch } from '../../src/models/model.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';

function classifier(arch: Arch, pooling: Pooling): SequenceClassifier {
  const cfg = resolveModelConfig({
    arch,
    vocabSize: 50,
    blockSize: 16,
    nLayer: 2,
    nHead: 2,
    nKvHead: arch === 'llama' ? 1 : 2,
    nEmbd: 16,
    dropout: 0,
  });
  return new SequenceClassifier(
    createModel(cfg, new Rng(1)),
    { labels: ['a', 'b', 'c'], pooling, maxLength: 16, padId: 0 },
    new Rng(2),
  ).eval();
}

for (const arch of ['gpt2', 'llama'] as const) {
  for (const pooling of ['last', 'mean'] as const) {
    test(`${arch}, ${pooling} pooling: logits of a sequence alone equal its logits padded in a batch`, () => {
      const clf = classifier(arch, pooling);
      const rows = [[3, 4, 5], [7, 8, 9, 10, 11, 12], [1]];
      noGrad(() => {
        const { ids, lengths, T } = padBatch(rows, 0);
        const batch = clf.forward(ids, 3, T, lengths).toFlatArray();
        rows.forEach((r, b) => {
          const alone = clf.forward(Int32Array.from(r), 1, r.length, [r.length]).toFlatArray();
          batch.slice(b * 3, b * 3 + 3).forEach((v, k) => {
            assert.ok(Math.abs(v - alone[k]!) < 1e-5, `row ${b} class ${k}: ${v} vs ${alone[k]}`);
          });
        });
        const other = padBatch(
          [
            [3, 4, 5],
            [7, 8],
          ],
          0,
        );
        const changed = clf.forward(other.ids, 2, other.T, [3, 3]).toFlatArray(); // reads a pad position instead
        assert.notDeepEqual(
          changed.slice(3, 6),
          clf.forward(Int32Array.from([7, 8]), 1, 2, [2]).toFlatArray(),
          'reading the wrong position would differ',
        );
      });
    });
  }
}

test('hidden states come back as (B, T, C) without the LM head', () => {
  const clf = classifier('gpt2', 'last');
  const out = clf.base.forward(Int32Array.from([1, 2, 3, 4]), 2, 2, null, { hidden: true });
  assert.deepEqual(out.logits.shape, [2, 2, 16]);
  assert.equal(out.loss, null);
  assert.deepEqual(
    clf.base.forward(Int32Array.from([1, 2, 3, 4]), 2, 2, null, { hidden: true, lastOnly: true }).logits.shape,
    [2, 1, 16],
  );
});

test('gradients reach the head and the base through the gathered rows', () => {
  const clf = classifier('gpt2', 'last').train();
  const { ids, lengths, T } = padBatch([[3, 4], [5]], 0);
  const logits = clf.forward(ids, 2, T, lengths);
  logits.backward(logits.detach().clone());
  assert.ok(clf.score.weight.grad?.toFlatArray().some((v) => v !== 0));
  const wte = clf.base.namedParameters().find(([n]) => n === 'wte.weight')![1];
  const g = wte.grad!.toFlatArray();
  assert.ok(
    g.slice(5 * 16, 6 * 16).some((v) => v !== 0),
    'token 5 (a real last token) gets a gradient',
  );
});
