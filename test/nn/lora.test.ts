/**
 * LoRA layers: a fresh adapter leaves outputs unchanged, gradients reach only A and B, merging gives the same logits
 * as the unmerged adapter path, unmerging restores the base weights, the trainable-parameter count follows
 * r * (in + out) per wrapped layer, and bad options are user errors.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { createModel } from '../../src/models/create.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { applyLora, trainableParameters, loraLayers, mergeLora, unmergeLora } from '../../src/nn/lora.ts';
import { UserError } from '../../src/util/user-error.ts';

const gptCfg = resolveModelConfig({ arch: 'gpt2', vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
const llamaCfg = resolveModelConfig({
  arch: 'llama',
  vocabSize: 40,
  blockSize: 16,
  nLayer: 2,
  nHead: 4,
  nKvHead: 2,
  nEmbd: 16,
});

function batch(V: number, B: number, T: number, seed: number): { ids: Int32Array; targets: Int32Array } {
  const rng = new Rng(seed);
  return {
    ids: Int32Array.from({ length: B * T }, () => rng.int(V)),
    targets: Int32Array.from({ length: B * T }, () => rng.int(V)),
  };
}

/** Gives every B a nonzero value so the adapter changes the outputs. */
function randomizeB(model: LanguageModel, seed: number): void {
  const rng = new Rng(seed);
  for (const [, l] of loraLayers(model))
    for (let i = 0; i < l.lora_B.data.length; i++) l.lora_B.data[i] = 0.05 * rng.normal();
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('a fresh adapter (B = 0) leaves the logits unchanged and keeps base parameter names', () => {
  const model = createModel(gptCfg, new Rng(1)).eval();
  const names = model.namedParameters().map(([n]) => n);
  const { ids } = batch(40, 2, 8, 2);
  const before = noGrad(() => model.forward(ids, 2, 8).logits.data.slice());
  applyLora(model, { r: 4, alpha: 8, targets: ['c_attn', 'mlp.c_proj'] });
  const after = noGrad(() => model.forward(ids, 2, 8).logits.data);
  assert.ok(maxDiff(before, after) < 1e-6);
  const newNames = model.namedParameters().map(([n]) => n);
  for (const n of names) assert.ok(newNames.includes(n), `base parameter ${n} kept its name`);
  assert.deepEqual(
    newNames.filter((n) => !names.includes(n)),
    [
      'h.0.attn.c_attn.lora_A',
      'h.0.attn.c_attn.lora_B',
      'h.0.mlp.c_proj.lora_A',
      'h.0.mlp.c_proj.lora_B',
      'h.1.attn.c_attn.lora_A',
      'h.1.attn.c_attn.lora_B',
      'h.1.mlp.c_proj.lora_A',
      'h.1.mlp.c_proj.lora_B',
    ],
  );
});

for (const [label, cfg, targets] of [
  ['gpt2', gptCfg, ['c_attn', 'c_proj', 'c_fc']],
  ['llama', llamaCfg, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']],
] as const) {
  test(`gradient flows only to lora_A and lora_B (${label})`, () => {
    const model = createModel(cfg, new Rng(3));
    const summary = applyLora(model, { r: 2, alpha: 4, dropout: 0.1, targets });
    // GPT-2's 'c_proj' matches both attn.c_proj and mlp.c_proj, as in PEFT
    assert.equal(summary.modules.length, (label === 'gpt2' ? 4 : 7) * cfg.nLayer);
    randomizeB(model, 4);
    const { ids, targets: y } = batch(40, 2, 8, 5);
    model.forward(ids, 2, 8, y).loss!.backward();
    let adapters = 0;
    for (const [name, p] of model.namedParameters()) {
      if (/\.lora_[AB]$/.test(name)) {
        adapters++;
        assert.ok(p.requiresGrad, name);
        assert.ok(
          p.grad?.data.some((g) => g !== 0),
          `${name} has a nonzero gradient`,
        );
      } else {
        assert.equal(p.requiresGrad, false, `${name} is frozen`);
        assert.ok(p.grad === null || p.grad.data.every((g) => g === 0), `${name} has no gradient`);
      }
    }
    assert.equal(adapters, 2 * summary.modules.length);
  });

  test(`merged outputs equal base + adapter outputs, and unmerge restores the base (${label})`, () => {
    const model = createModel(cfg, new Rng(6)).eval();
    applyLora(model, { r: 3, alpha: 6, targets });
    randomizeB(model, 7);
    const base = loraLayers(model).map(([, l]) => l.weight.data.slice());
    const { ids } = batch(40, 2, 8, 8);
    const unmerged = noGrad(() => model.forward(ids, 2, 8).logits.data.slice());
    mergeLora(model);
    assert.ok(loraLayers(model).every(([, l]) => l.merged));
    assert.ok(maxDiff(base[0]!, loraLayers(model)[0]![1].weight.data) > 1e-4, 'merging changed the weights');
    const merged = noGrad(() => model.forward(ids, 2, 8).logits.data.slice());
    assert.ok(maxDiff(unmerged, merged) < 1e-5, `merged vs unmerged max diff ${maxDiff(unmerged, merged)}`);
    unmergeLora(model);
    loraLayers(model).forEach(([path, l], i) => {
      assert.ok(maxDiff(base[i]!, l.weight.data) < 1e-6, `${path} restored`);
    });
    const again = noGrad(() => model.forward(ids, 2, 8).logits.data);
    assert.ok(maxDiff(unmerged, again) < 1e-5);
  });
}

test('trainable parameters are r * (in + out) per wrapped layer', () => {
  const model = createModel(gptCfg, new Rng(9));
  const total = model.numParameters();
  const C = gptCfg.nEmbd;
  const r = 4;
  const summary = applyLora(model, { r, alpha: 8, targets: ['c_attn', 'c_fc'] });
  const perLayer = r * (C + 3 * C) + r * (C + gptCfg.mlpHidden);
  assert.equal(summary.trainable, gptCfg.nLayer * perLayer);
  assert.equal(summary.total, total + gptCfg.nLayer * perLayer);
  assert.deepEqual(trainableParameters(model), { trainable: summary.trainable, total: summary.total });
  assert.deepEqual(summary.modules, ['h.0.attn.c_attn', 'h.0.mlp.c_fc', 'h.1.attn.c_attn', 'h.1.mlp.c_fc']);
});

test('AdamW over the requiresGrad parameters fits a batch while every base weight stays bit-identical', () => {
  const model = createModel(gptCfg, new Rng(11));
  applyLora(model, { r: 4, alpha: 8, targets: ['c_attn', 'c_fc'] });
  const frozen = model
    .namedParameters()
    .filter(([, p]) => !p.requiresGrad)
    .map(([n, p]) => [n, p.data.slice()] as const);
  const opt = new AdamW(
    model.parameters().filter((p) => p.requiresGrad),
    { lr: 1e-2 },
  );
  const { ids, targets } = batch(40, 2, 8, 12);
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    const { loss } = model.forward(ids, 2, 8, targets);
    losses.push(loss!.item());
    opt.zeroGrad();
    loss!.backward();
    opt.step();
  }
  assert.ok(losses[7]! < losses[0]! - 0.05, `loss fell: ${losses[0]} -> ${losses[7]}`);
  const now = new Map(model.namedParameters());
  for (const [n, data] of frozen) assert.deepEqual(now.get(n)!.data, data, `${n} unchanged`);
});

test('bad options and unknown targets are user errors', () => {
  const model = createModel(gptCfg, new Rng(10));
  assert.throws(
    () => applyLora(model, { r: 0, alpha: 8, targets: ['c_attn'] }),
    (e: Error) => e instanceof UserError && /r must be a positive integer, received 0/.test(e.message),
  );
  assert.throws(
    () => applyLora(model, { r: 2, alpha: 8, targets: ['q_proj'] }),
    /target 'q_proj' matches no Linear layer; expected one of: .*attn\.c_attn/,
  );
  applyLora(model, { r: 2, alpha: 8, targets: ['c_attn'] });
  assert.throws(() => applyLora(model, { r: 2, alpha: 8, targets: ['c_fc'] }), /already has LoRA layers/);
});
