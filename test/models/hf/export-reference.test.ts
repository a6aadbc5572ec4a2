/**
 * The exported Hugging Face layout checked against an independent forward pass: scripts/fixtures/
 * gen_hf_export_reference.py read the directories that scripts/fixtures/export-tiny-models.ts exported (GPT-2
 * tied, Llama GQA untied, Qwen2 with q/k/v biases), computed logits in plain PyTorch from Hugging Face's tensor
 * names and layouts, and stored them in fixtures/hf-export-reference.json. Here the same seeded models are exported
 * again, loaded back through loadModel, and their logits must match the fixture (max abs diff <= 1e-4). The GPT-2
 * export rewritten as a bare GPT2Model (no "transformer." prefix, no head) must give the same reference logits. The
 * real lm-buddy tiny_gpt2 checkpoint (a GPT2Model written by transformers) is checked against its fixture entry in
 * test-data/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withSafetensors, writeSafetensors } from '../../../src/io/safetensors.ts';
import { exportHfModel } from '../../../src/models/hf/export-hf.ts';
import type { LanguageModel } from '../../../src/models/model.ts';
import { loadModel } from '../../../src/models/model-io.ts';
import { noGrad } from '../../../src/tensor/autograd.ts';
import { buildTinyModel, REFERENCE_IDS, TINY_MODELS } from '../../../scripts/fixtures/export-tiny-models.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

interface Entry {
  architecture: string;
  ids: number[];
  shape: [number, number];
  logits: number[];
}
const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../fixtures/hf-export-reference.json', import.meta.url)), 'utf8'),
) as { models: Record<string, Entry> };

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
    assert.ok(
      maxAbsDiff(logits(original, ref.ids), ours) === 0,
      'the reloaded model computes exactly what the original did',
    );
  });
}

test('the GPT-2 export as a bare GPT2Model (no prefix, no head) loads and matches the PyTorch reference logits', () => {
  const ref = fixture.models.gpt2!;
  const dir = join(root, 'gpt2-bare');
  exportHfModel(buildTinyModel('gpt2'), dir);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['GPT2Model'] }));
  const file = join(dir, 'model.safetensors');
  const tensors = withSafetensors(file, (r) =>
    [...r.tensors.values()].map((t) => ({ name: t.name, shape: t.shape, data: r.read(t.name) })),
  );
  assert.ok(
    tensors.every((t) => t.name.startsWith('transformer.')) && !tensors.some((t) => t.name === 'lm_head.weight'),
    'a tied GPT2LMHeadModel export',
  );
  writeSafetensors(
    file,
    tensors.map((t) => ({ ...t, name: t.name.slice('transformer.'.length) })),
    { format: 'pt' },
  );
  const diff = maxAbsDiff(logits(loadModel(dir), ref.ids), ref.logits);
  console.log(`gpt2 as GPT2Model: max |ours - torch| ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});
