/**
 * Saving and loading model directories: a round trip reproduces every parameter and the logits for both
 * architectures (tied and untied heads; a tied head is stored once), extra fields survive in config.json, and
 * missing, misshapen or unexpected tensors and bad config fields give errors naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, serializeSafetensors } from '../../src/io/safetensors.ts';
import { createModel } from '../../src/models/create.ts';
import { loadModel, readModelConfig, saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const tmp = (): string => tempDir('model');
const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);

for (const [label, cfg] of [
  ['gpt2 tied', resolveModelConfig('char-tiny', { nLayer: 2, nEmbd: 32, vocabSize: 20, blockSize: 16 })],
  [
    'gpt2 untied',
    resolveModelConfig('char-tiny', { nLayer: 1, nEmbd: 32, vocabSize: 20, blockSize: 16, tieEmbeddings: false }),
  ],
  ['llama GQA', resolveModelConfig('llama-mini', { nLayer: 2, nEmbd: 48, vocabSize: 20, blockSize: 16 })],
] as const) {
  test(`save + load round trip (${label})`, () => {
    const dir = tmp();
    const model = createModel(cfg, new Rng(7));
    saveModel(dir, model, { tokenizer: 'tokenizer.json', step: 12 });
    const { config, extra } = readModelConfig(dir);
    assert.deepEqual(config, cfg);
    assert.deepEqual(extra, { tokenizer: 'tokenizer.json', step: 12 });
    const loaded = loadModel(dir);
    assert.deepEqual(loaded.config, cfg);
    const a = model.namedParameters();
    const b = loaded.namedParameters();
    assert.deepEqual(
      b.map(([n]) => n),
      a.map(([n]) => n),
    );
    a.forEach(([n, p], i) => {
      assert.deepEqual(b[i]![1].data, p.data, n);
    });
    assert.deepEqual(loaded.forward(ids, 2, 4).logits.data, model.forward(ids, 2, 4).logits.data);
    const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
    assert.equal(names.length, a.length);
    assert.equal(names.includes('lm_head.weight'), !cfg.tieEmbeddings);
  });
}

test('load errors name the file and the tensor or field', () => {
  const cfg = resolveModelConfig('char-tiny', { nLayer: 1, nEmbd: 16, vocabSize: 10, blockSize: 8 });
  const dir = tmp();
  saveModel(dir, createModel(cfg, new Rng(1)));
  const weights = join(dir, 'model.safetensors');
  const file = readSafetensors(weights);
  const entries = [...file.tensors.entries()];

  writeFileSync(weights, serializeSafetensors(entries.filter(([n]) => n !== 'h.0.mlp.c_fc.bias')));
  assert.throws(
    () => loadModel(dir),
    /model\.safetensors: tensor "h\.0\.mlp\.c_fc\.bias" is missing \(the config in config\.json expects it with shape \[64\]\)/,
  );

  writeFileSync(
    weights,
    serializeSafetensors(entries.map(([n, t]) => [n, n === 'wpe.weight' ? { shape: [4, 32], data: t.data } : t])),
  );
  assert.throws(() => loadModel(dir), /tensor "wpe\.weight" has shape \[4, 32\], expected \[8, 16\]/);

  writeFileSync(weights, serializeSafetensors([...entries, ['extra.weight', { shape: [1], data: [0] }]]));
  assert.throws(() => loadModel(dir), /unexpected tensor "extra\.weight"/);

  const cfgPath = join(dir, 'config.json');
  const doc = JSON.parse(readFileSync(cfgPath, 'utf8')) as { config: Record<string, unknown> };
  doc.config.nHead = 3;
  writeFileSync(cfgPath, JSON.stringify(doc));
  assert.throws(
    () => loadModel(dir),
    (e: Error) => {
      assert.match(e.message, /config\.json "config": nEmbd 16 must be a multiple of nHead 3/);
      assert.ok(e instanceof UserError);
      return true;
    },
  );
  writeFileSync(cfgPath, '{"format": "other"}');
  assert.throws(() => loadModel(dir), /config\.json: expected \{"format": "llmforge"/);
  assert.throws(() => loadModel(join(dir, 'nope')), /nope[/\\]config\.json: cannot read the model config \(ENOENT\)/);
});
