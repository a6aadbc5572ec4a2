/**
 * Module mechanics and layers: parameter names from the field structure, train/eval propagation, freezing, and
 * Dropout active only in training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ones } from '../../src/tensor/creation.ts';
import { Rng } from '../../src/tensor/random.ts';
import { GPT } from '../../src/models/gpt.ts';
import { Dropout } from '../../src/nn/layers.ts';

test('GPT parameter names follow fields; train/eval and freezing reach every sub-module', () => {
  const m = new GPT(
    {
      arch: 'gpt2',
      vocabSize: 11,
      blockSize: 8,
      nLayer: 2,
      nHead: 2,
      nKvHead: 2,
      nEmbd: 8,
      mlpHidden: 32,
      dropout: 0.5,
      bias: true,
      normEps: 1e-5,
      ropeTheta: 10000,
      tieEmbeddings: true,
    },
    new Rng(1),
  );
  const names = m.namedParameters().map(([n]) => n);
  assert.equal(names[0], 'wte.weight');
  assert.ok(
    names.includes('h.1.attn.c_attn.weight') && names.includes('h.0.mlp.c_proj.bias') && names.includes('ln_f.bias'),
  );
  assert.equal(
    m.numParameters(),
    m.parameters().reduce((n, p) => n + p.size, 0),
  );
  m.eval();
  assert.equal(m.h[1]!.mlp.dropout.training, false);
  const ids = Int32Array.from({ length: 8 }, (_, i) => i);
  const a = m.forward(ids, 1, 8).logits;
  const b = m.forward(ids, 1, 8).logits;
  assert.deepEqual(a.toFlatArray(), b.toFlatArray(), 'eval mode is deterministic (no dropout)');
  m.train();
  assert.notDeepEqual(m.forward(ids, 1, 8).logits.toFlatArray(), a.toFlatArray(), 'training mode applies dropout');
  m.requiresGrad(false);
  assert.ok(m.parameters().every((p) => !p.requiresGrad));
});

test('Dropout passes x through in eval mode or with p = 0', () => {
  const x = ones([100]);
  const d = new Dropout(0.5);
  const y = d.forward(x, 3);
  assert.ok(y !== x && y.toFlatArray().every((v) => v === 0 || v === 2));
  assert.equal(d.eval().forward(x, 3), x);
  assert.equal(new Dropout(0).forward(x, 3), x);
});
