/**
 * LoraLinear runs as one fused op (F.loraLinear): its outputs and the gradients of x, A and B match the composite
 * it replaced, base(x) + (alpha / r) * linear(linear(dropout(x), A), B), with and without adapter dropout; and in a
 * LoRA-wrapped model every frozen parameter ends a backward pass with `.grad === null` (no gradient buffers).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { randn } from '../../src/tensor/creation.ts';
import { Rng } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import * as F from '../../src/ops/index.ts';
import { Linear } from '../../src/nn/layers.ts';
import { applyLora, LoraLinear } from '../../src/nn/lora.ts';
import { createModel } from '../../src/models/create.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';

function maxRel(a: Tensor | null, b: Tensor | null): number {
  assert.ok(a && b, 'both gradients exist');
  let m = 0;
  for (let i = 0; i < a.size; i++)
    m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!) / Math.max(1, Math.abs(b.data[i]!)));
  return m;
}

for (const p of [0, 0.25]) {
  test(`fused LoraLinear equals the composite ops (dropout ${p})`, () => {
    const base = new Linear(12, 10, { rng: new Rng(1) });
    const layer = new LoraLinear(base, { r: 3, alpha: 6, dropout: p, rng: new Rng(2), seed: 11 });
    base.weight.requiresGrad = false;
    base.bias!.requiresGrad = false;
    for (let i = 0; i < layer.lora_B.size; i++) layer.lora_B.data[i] = 0.1 * Math.sin(i + 1);
    const x = randn([2, 5, 12], { seed: 3, requiresGrad: true });
    const R = randn([2, 5, 10], { seed: 4 });
    const seedBefore = layer.dropoutSeed;
    const y = layer.forward(x);
    F.sum(F.mul(y, R)).backward();
    const got = { y: y.data.slice(), x: x.grad, a: layer.lora_A.grad, b: layer.lora_B.grad };
    x.grad = null;
    layer.lora_A.grad = null;
    layer.lora_B.grad = null;
    const h = p > 0 ? F.dropout(x, p, seedBefore + 7919) : x; // the layer's seed advance for this call
    const ref = F.add(
      F.linear(x, base.weight, base.bias),
      F.mul(F.linear(F.linear(h, layer.lora_A), layer.lora_B), layer.scale),
    );
    F.sum(F.mul(ref, R)).backward();
    let dy = 0;
    for (let i = 0; i < ref.size; i++) dy = Math.max(dy, Math.abs(ref.data[i]! - got.y[i]!));
    assert.ok(dy < 1e-5, `outputs differ by ${dy}`);
    assert.ok(maxRel(got.x, x.grad) < 1e-5, 'dx');
    assert.ok(maxRel(got.a, layer.lora_A.grad) < 1e-5, 'dA');
    assert.ok(maxRel(got.b, layer.lora_B.grad) < 1e-5, 'dB');
    assert.equal(base.weight.grad, null);
    assert.equal(base.bias!.grad, null);
  });
}

test('a LoRA-wrapped model leaves every frozen parameter without a gradient buffer', () => {
  for (const [cfg, targets] of [
    [
      resolveModelConfig({ arch: 'gpt2', vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }),
      ['c_attn', 'c_proj', 'c_fc'],
    ],
    [
      resolveModelConfig({ arch: 'llama', vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16 }),
      ['q_proj', 'v_proj', 'down_proj'],
    ],
  ] as const) {
    const model = createModel(cfg, new Rng(5));
    applyLora(model, { r: 2, alpha: 4, targets });
    const rng = new Rng(6);
    const ids = Int32Array.from({ length: 16 }, () => rng.int(40));
    model.forward(ids, 2, 8, ids).loss!.backward();
    for (const [name, p] of model.namedParameters()) {
      if (p.requiresGrad) assert.ok(p.grad, `${cfg.arch} ${name} has a gradient`);
      else assert.equal(p.grad, null, `${cfg.arch} ${name} (frozen) has no .grad`);
    }
  }
});
