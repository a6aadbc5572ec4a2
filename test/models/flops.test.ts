/**
 * Model accounting: the parameter counts computed from the config equal the built model's numParameters() for
 * both architectures and every branch (biases, tied and untied heads, grouped-query attention), GPT-2 124M comes
 * to its published 124,439,808, and FLOPs and memory follow the stated formulas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/create.ts';
import { countParameters, flopsPerToken, trainingMemory } from '../../src/models/flops.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';

/** Parameters of the built model summed by component, from their names. */
function builtCounts(cfg: ModelConfig): Record<string, number> {
  const out: Record<string, number> = { embeddings: 0, attention: 0, mlp: 0, norms: 0, head: 0, total: 0 };
  const model = createModel(cfg, new Rng(0));
  out.total = model.numParameters();
  for (const [name, p] of model.namedParameters()) {
    const part = /wte|wpe|embed_tokens/.test(name)
      ? 'embeddings'
      : /attn/.test(name)
        ? 'attention'
        : /mlp/.test(name)
          ? 'mlp'
          : /lm_head/.test(name)
            ? 'head'
            : 'norms';
    out[part]! += p.size;
  }
  return out;
}

test('parameter counts per component match the built models', () => {
  const cases: ModelConfig[] = [
    resolveModelConfig('gpt2-124m', { nLayer: 1, vocabSize: 1000 }),
    resolveModelConfig('char-tiny', { bias: false, tieEmbeddings: false }),
    resolveModelConfig('llama-mini', { vocabSize: 1000 }),
    resolveModelConfig('llama-mini', { nLayer: 2, bias: true, tieEmbeddings: true, nKvHead: 6, mlpHidden: 500 }),
  ];
  for (const cfg of cases) {
    const c = countParameters(cfg);
    const built = builtCounts(cfg);
    const label = JSON.stringify(cfg);
    for (const part of ['embeddings', 'attention', 'mlp', 'norms', 'head', 'total'] as const)
      assert.equal(c[part], built[part], `${part} of ${label}`);
    assert.equal(c.nonEmbedding, c.total - c.embeddings - c.head);
  }
});

test('GPT-2 124M has 124,439,808 parameters (tied head, context 1024)', () => {
  const cfg = resolveModelConfig('gpt2-124m');
  const c = countParameters(cfg);
  assert.equal(c.total, 124_439_808);
  // The formula checked against numParameters() above on GPT-2 124M's block shape (1 layer, smaller vocabulary):
  // 50257 tokens + 1024 positions of width 768, 12 blocks, a final LayerNorm.
  const small = countParameters(resolveModelConfig('gpt2-124m', { nLayer: 1, vocabSize: 1000 }));
  const perBlock = small.attention + small.mlp + 2 * 2 * 768;
  assert.equal(c.total, (50257 + 1024) * 768 + 12 * perBlock + 2 * 768);
  assert.equal(c.nonEmbedding, 85_056_000);
});

test('FLOPs per token: 2 per matmul weight plus 4*L*T*C forward, 3x for training', () => {
  const cfg = resolveModelConfig('gpt2-124m');
  const f = flopsPerToken(cfg, 1024);
  const c = countParameters(cfg);
  assert.equal(f.matmulParams, c.attention + c.mlp + 50257 * 768);
  assert.equal(f.forwardAttention, 4 * 12 * 1024 * 768);
  assert.equal(f.training, 6 * f.matmulParams + 12 * 12 * 1024 * 768);
  assert.equal(flopsPerToken(cfg).seq, 1024);
  assert.ok(flopsPerToken(cfg, 128).forward < f.forward);
});

test('training memory: 16 bytes per parameter plus activations that scale with batch x seq', () => {
  const cfg = resolveModelConfig('gpt-mini');
  const n = countParameters(cfg).total;
  const m1 = trainingMemory(cfg, 1, 128);
  const m4 = trainingMemory(cfg, 4, 128);
  assert.equal(m1.weights + m1.gradients + m1.optimizer, 16 * n);
  assert.equal(m4.activations, 4 * m1.activations);
  assert.equal(m1.activationFloatsPerTokenLayer, 10 * 384 + 2 * 1536);
  assert.equal(m1.activations, 4 * 128 * (6 * m1.activationFloatsPerTokenLayer + 2 * 384 + 2 * 8192));
  assert.equal(m1.total, m1.weights + m1.gradients + m1.optimizer + m1.activations);
});
