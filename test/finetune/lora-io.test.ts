/**
 * PEFT adapter files: saving writes adapter_config.json and adapter_model.safetensors with PEFT's tensor names and
 * shapes (GPT-2 under `transformer.`, Llama under `model.`, A (r, in), B (out, r)); loading onto a fresh base
 * reproduces the adapted model's logits; malformed adapters are user errors naming the file and field.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { createModel } from '../../src/models/create.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { applyLora, loraLayers } from '../../src/nn/lora.ts';
import { loadLoraAdapter, saveLoraAdapter } from '../../src/finetune/lora-io.ts';
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
  mlpHidden: 24,
});

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'llmforge-lora-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A base model (same seed every call) with a trained-looking adapter: B filled with random values. */
function adapted(cfg: ModelConfig, targets: string[], r: number) {
  const model = createModel(cfg, new Rng(21)).eval();
  applyLora(model, { r, alpha: 2 * r, dropout: 0.05, targets, rng: new Rng(22) });
  const rng = new Rng(23);
  for (const [, l] of loraLayers(model))
    for (let i = 0; i < l.lora_B.data.length; i++) l.lora_B.data[i] = 0.05 * rng.normal();
  return model;
}

test('GPT-2 adapter: PEFT config and tensor names/shapes', () => {
  withDir((dir) => {
    const model = adapted(gptCfg, ['c_attn', 'mlp.c_proj'], 4);
    saveLoraAdapter(dir, model, { targets: ['c_attn', 'mlp.c_proj'], baseModel: 'gpt2' });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.deepEqual(
      {
        peft_type: config.peft_type,
        task_type: config.task_type,
        r: config.r,
        lora_alpha: config.lora_alpha,
        lora_dropout: config.lora_dropout,
        target_modules: config.target_modules,
        base: config.base_model_name_or_path,
        bias: config.bias,
        fan_in_fan_out: config.fan_in_fan_out,
      },
      {
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r: 4,
        lora_alpha: 8,
        lora_dropout: 0.05,
        target_modules: ['c_attn', 'mlp.c_proj'],
        base: 'gpt2',
        bias: 'none',
        fan_in_fan_out: true,
      },
    );
    const { tensors } = readSafetensors(join(dir, 'adapter_model.safetensors'));
    const C = gptCfg.nEmbd;
    const H = gptCfg.mlpHidden;
    const expected: [string, number[]][] = [];
    for (let i = 0; i < gptCfg.nLayer; i++) {
      expected.push(
        [`base_model.model.transformer.h.${i}.attn.c_attn.lora_A.weight`, [4, C]],
        [`base_model.model.transformer.h.${i}.attn.c_attn.lora_B.weight`, [3 * C, 4]],
      );
      expected.push(
        [`base_model.model.transformer.h.${i}.mlp.c_proj.lora_A.weight`, [4, H]],
        [`base_model.model.transformer.h.${i}.mlp.c_proj.lora_B.weight`, [C, 4]],
      );
    }
    assert.deepEqual([...tensors].map(([n, t]) => [n, t.shape]).sort(), expected.sort());
  });
});

test('Llama adapter: tensor names under base_model.model.model.layers, shapes with grouped-query k/v', () => {
  withDir((dir) => {
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    const model = adapted(llamaCfg, targets, 2);
    saveLoraAdapter(dir, model, { targets });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    assert.equal(config.fan_in_fan_out, false);
    const { tensors } = readSafetensors(join(dir, 'adapter_model.safetensors'));
    const C = llamaCfg.nEmbd;
    const kv = (C / llamaCfg.nHead) * llamaCfg.nKvHead;
    const shapes: Record<string, [number, number]> = {
      'self_attn.q_proj': [C, C],
      'self_attn.k_proj': [C, kv],
      'self_attn.v_proj': [C, kv],
      'self_attn.o_proj': [C, C],
      'mlp.gate_proj': [C, 24],
      'mlp.up_proj': [C, 24],
      'mlp.down_proj': [24, C],
    };
    const expected: [string, number[]][] = [];
    for (let i = 0; i < llamaCfg.nLayer; i++) {
      for (const [mod, [inF, out]] of Object.entries(shapes)) {
        expected.push(
          [`base_model.model.model.layers.${i}.${mod}.lora_A.weight`, [2, inF]],
          [`base_model.model.model.layers.${i}.${mod}.lora_B.weight`, [out, 2]],
        );
      }
    }
    assert.deepEqual([...tensors].map(([n, t]) => [n, t.shape]).sort(), expected.sort());
  });
});

for (const [label, cfg, targets] of [
  ['gpt2', gptCfg, ['c_attn', 'c_fc']],
  ['llama', llamaCfg, ['q_proj', 'v_proj', 'down_proj']],
] as const) {
  test(`save -> load onto a fresh base gives identical logits (${label})`, () => {
    withDir((dir) => {
      const model = adapted(cfg, [...targets], 3);
      const ids = Int32Array.from({ length: 16 }, (_, i) => (i * 7 + 3) % cfg.vocabSize);
      const want = noGrad(() => model.forward(ids, 2, 8).logits.data.slice());
      saveLoraAdapter(dir, model, { targets });
      const fresh = createModel(cfg, new Rng(21)).eval();
      const baseOut = noGrad(() => fresh.forward(ids, 2, 8).logits.data.slice());
      const summary = loadLoraAdapter(dir, fresh);
      assert.equal(summary.config.r, 3);
      assert.equal(summary.modules.length, targets.length * cfg.nLayer);
      fresh.eval();
      const got = noGrad(() => fresh.forward(ids, 2, 8).logits.data);
      assert.deepEqual(Array.from(got), Array.from(want));
      assert.ok(
        baseOut.some((v, i) => Math.abs(v - want[i]!) > 1e-4),
        'the adapter changes the outputs',
      );
    });
  });
}

test('malformed adapters are user errors naming the file and field', () => {
  withDir((dir) => {
    const model = adapted(gptCfg, ['c_attn'], 2);
    saveLoraAdapter(dir, model, { targets: ['c_attn'] });
    const cfgPath = join(dir, 'adapter_config.json');
    const good = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...good, r: 0 }));
    assert.throws(
      () => loadLoraAdapter(dir, createModel(gptCfg, new Rng(1))),
      (e: Error) =>
        e instanceof UserError &&
        e.message.includes(cfgPath) &&
        /field 'r' must be a positive integer, received 0/.test(e.message),
    );
    writeFileSync(cfgPath, JSON.stringify({ ...good, r: 3 }));
    assert.throws(
      () => loadLoraAdapter(dir, createModel(gptCfg, new Rng(1))),
      /lora_A\.weight' has shape \[2, 16\], expected \[3, 16\]/,
    );
    writeFileSync(cfgPath, JSON.stringify({ ...good, target_modules: ['c_attn', 'c_fc'] }));
    assert.throws(
      () => loadLoraAdapter(dir, createModel(gptCfg, new Rng(1))),
      /h\.0\.mlp\.c_fc\.lora_A\.weight' is missing/,
    );
  });
  assert.throws(
    () => loadLoraAdapter('/nonexistent-adapter', createModel(gptCfg, new Rng(1))),
    /adapter_config\.json: not found/,
  );
});
