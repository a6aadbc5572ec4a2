/**
 * The exported Hugging Face layout checked against an independent forward pass: scripts/fixtures/
 * gen_hf_export_reference.py read the directories that scripts/fixtures/export-tiny-models.ts exported (GPT-2
 * tied, Llama GQA untied, Qwen2 with q/k/v biases), computed logits in plain PyTorch from Hugging Face's tensor
 * names and layouts, and stored them in fixtures/hf-export-reference.json. Here the same seeded models are exported
 * again, loaded back through loadModel, and their logits must match the fixture (max abs diff <= 1e-4); the shared
 * lm-buddy tiny_gpt2 checkpoint (GPT2Model, no prefix, no head) is checked the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportHfModel } from '../../../src/models/hf/export-hf.ts';
import type { LanguageModel } from '../../../src/models/model.ts';
import { loadModel } from '../../../src/models/model-io.ts';
import { noGrad } from '../../../src/tensor/autograd.ts';
import { buildTinyModel, REFERENCE_IDS, TINY_MODELS } from '../../../scripts/fixtures/export-tiny-models.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

interface Entry { architecture: string; ids: number[]; shape: [number, number]; logits: number[] }
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../../fixtures/hf-export-reference.json', import.meta.url)), 'utf8')) as { models: Record<string, Entry> };
const shared = fileURLToPath(new URL('../../../../shared/data/checkpoints/lm-buddy-tiny_gpt2', import.meta.url));

function logits(model: LanguageModel, ids: number[]): Float32Array {
  return noGrad(() => model.forward(Int32Array.from(ids), 1, ids.length).logits.data) as Float32Array;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const root = tempDir('hf-ref');

for (const name of Object.keys(TINY_MODELS)) {
  test(`exported ${name} reloads and matches the PyTorch reference logits`, () => {
    const ref = fixture.models[name]!;
    assert.deepEqual(ref.ids, REFERENCE_IDS);
    const original = buildTinyModel(name);
    const dir = join(root, name);
    exportHfModel(original, dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { architectures: string[] };
    assert.equal(config.architectures[0], ref.architecture);
    const reloaded = loadModel(dir);
    const ours = logits(reloaded, ref.ids);
    assert.equal(ours.length, ref.shape[0] * ref.shape[1]);
    const diff = maxAbsDiff(ours, ref.logits);
    console.log(`${name}: max |ours - torch| ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `${name}: max abs diff ${diff}`);
    assert.ok(maxAbsDiff(logits(original, ref.ids), ours) === 0, 'the reloaded model computes exactly what the original did');
  });
}

test('lm-buddy tiny_gpt2 (GPT2Model, no prefix, no head) matches the PyTorch reference logits', () => {
  const ref = fixture.models['lm-buddy-tiny_gpt2']!;
  const diff = maxAbsDiff(logits(loadModel(shared), ref.ids), ref.logits);
  console.log(`lm-buddy-tiny_gpt2: max |ours - torch| ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});
