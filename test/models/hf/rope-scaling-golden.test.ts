/**
 * Golden test against PyTorch for Llama checkpoints with RoPE scaling and an explicit head size: the Hugging Face
 * directories of scripts/fixtures/gen_llama_rope_scaling_golden.py (llama3 rope_scaling with head_dim 16 != 48 / 4;
 * linear rope_scaling with a tied head) load through the Hugging Face loader, and their logits for the fixture's ids
 * match plain PyTorch within 1e-4 on every backend available. The RoPE frequencies match PyTorch's, a prefill plus
 * one cached token at a time gives the full forward's logits, greedy `generate` (KV cache) picks the tokens a
 * cache-free greedy loop picks, and the config survives llmforge -> Hugging Face -> llmforge and saveModel/loadModel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAvailable, withBackend } from '../../../src/backend/index.ts';
import { generate } from '../../../src/generate/generate.ts';
import { readSafetensors } from '../../../src/io/safetensors.ts';
import { headSize } from '../../../src/models/config.ts';
import { exportHfModel } from '../../../src/models/hf/export-hf.ts';
import { readHfConfig } from '../../../src/models/hf/load-hf.ts';
import { loadHfModel } from '../../../src/models/hf/load-hf.ts';
import type { LanguageModel } from '../../../src/models/model.ts';
import { loadModel, saveModel } from '../../../src/models/model-io.ts';
import { ropeInverseFrequencies } from '../../../src/models/rope-scaling.ts';
import { noGrad } from '../../../src/tensor/autograd.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../../../fixtures/llama-rope-scaling/', import.meta.url));
const root = tempDir('rope-scaling-golden');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function reference(name: string): {
  ids: Int32Array;
  logits: Float32Array;
  invFreq: Float32Array;
  B: number;
  T: number;
} {
  const ref = readSafetensors(join(ROOT, name, 'reference.safetensors'));
  const get = (k: string): Float32Array => {
    const t = ref.tensors.get(k);
    assert.ok(t, `reference lacks ${k}`);
    return t.data;
  };
  const { B, T } = JSON.parse(ref.metadata.batch!) as { B: number; T: number };
  return { ids: Int32Array.from(get('ids')), logits: get('logits'), invFreq: get('inv_freq'), B, T };
}

function logits(model: LanguageModel, ids: Int32Array, B: number, T: number): Float32Array {
  return noGrad(() => Float32Array.from(model.forward(ids, B, T).logits.data));
}

const CASES = [
  {
    name: 'llama3-head-dim',
    headDim: 16,
    scaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 },
  },
  { name: 'linear', headDim: undefined, scaling: { type: 'linear', factor: 4 } },
] as const;

for (const { name, headDim, scaling } of CASES) {
  test(`${name}: the Hugging Face config maps to headDim ${headDim ?? '(C / H)'} and ropeScaling ${scaling.type}; frequencies match PyTorch`, () => {
    const { config } = readHfConfig(join(ROOT, name));
    assert.equal(config.headDim, headDim);
    assert.deepEqual(config.ropeScaling, scaling);
    const ref = reference(name);
    const ours = ropeInverseFrequencies(headSize(config), config.ropeTheta, config.ropeScaling);
    assert.equal(ours.length, ref.invFreq.length);
    ours.forEach((f, i) => {
      assert.ok(Math.abs(f - ref.invFreq[i]!) <= 1e-6 * f, `inv_freq[${i}] ${f} vs PyTorch ${ref.invFreq[i]}`);
    });
  });

  for (const backend of ['reference', 'native'] as const) {
    test(`${name}: logits match PyTorch (${backend} backend)`, {
      skip: backend === 'native' && !nativeAvailable() ? 'native addon not built' : false,
    }, () => {
      withBackend(backend, () => {
        const { model } = loadHfModel(join(ROOT, name));
        const ref = reference(name);
        const d = maxAbsDiff(logits(model, ref.ids, ref.B, ref.T), ref.logits);
        process.stdout.write(`${name} ${backend}: logits max |diff| ${d.toExponential(2)}\n`);
        assert.ok(d <= 1e-4, `logits max abs diff ${d} > 1e-4`);
      });
    });
  }

  test(`${name}: prefill + cached steps equal the full forward, and greedy generate equals a cache-free greedy loop`, () => {
    const model = loadHfModel(join(ROOT, name)).model.eval();
    const { ids, B, T } = reference(name);
    const V = model.config.vocabSize;
    const full = logits(model, ids, B, T);
    const row = (b: number, t0: number, t1: number): Int32Array => ids.slice(b * T + t0, b * T + t1);
    const prefill = 7;
    for (let b = 0; b < B; b++) {
      const cache = model.createCache(1, T);
      const got: number[] = [];
      noGrad(() => {
        got.push(...model.forward(row(b, 0, prefill), 1, prefill, null, { cache }).logits.data);
        for (let t = prefill; t < T; t++)
          got.push(...model.forward(row(b, t, t + 1), 1, 1, null, { cache }).logits.data);
      });
      const d = maxAbsDiff(got, full.subarray(b * T * V, (b + 1) * T * V));
      assert.ok(d <= 1e-4, `row ${b}: cached logits differ from the full forward by ${d}`);
    }
    const prompt = [...row(0, 0, 5)];
    const steps = 20;
    const viaCache = generate(model, prompt, { maxNewTokens: steps, temperature: 0 }).ids;
    const seq = [...prompt];
    for (let i = 0; i < steps; i++) {
      const out = logits(model, Int32Array.from(seq), 1, seq.length).subarray((seq.length - 1) * V);
      seq.push(out.indexOf(Math.max(...out)));
    }
    assert.deepEqual(viaCache, seq.slice(prompt.length));
  });

  test(`${name}: the config survives export to Hugging Face and saveModel/loadModel, with the same logits`, () => {
    const { model, config } = loadHfModel(join(ROOT, name));
    const hfDir = join(root, `${name}-hf`);
    exportHfModel(model, hfDir);
    assert.deepEqual(readHfConfig(hfDir).config, config);
    const ownDir = join(root, `${name}-own`);
    saveModel(ownDir, model);
    const reloaded = loadModel(ownDir);
    assert.deepEqual(reloaded.config, config);
    const { ids, B, T } = reference(name);
    assert.equal(maxAbsDiff(logits(reloaded, ids, B, T), logits(model, ids, B, T)), 0);
  });
}
