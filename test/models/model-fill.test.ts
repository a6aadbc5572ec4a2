/**
 * Models built without random init and the loaders that fill them: `createModel(cfg, { init: false })` has the
 * same parameters as a random model, all zero; ModelFill refuses to hand back a model with a parameter left out;
 * a model saved and loaded (llmforge directory, GGUF, llm.c) equals the saved one; and a weight file missing a
 * tensor is one error naming the file and the tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ggufTensors, ggufModelMetadata } from '../../src/export/gguf/export-gguf.ts';
import { writeGguf } from '../../src/export/gguf/gguf-writer.ts';
import { importGguf } from '../../src/export/gguf/import-gguf.ts';
import { readLlmcCheckpoint, writeLlmcCheckpoint } from '../../src/export/llmc/llmc-checkpoint.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { ModelFill } from '../../src/models/model-fill.ts';
import { loadModel, saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const dir = tempDir('model-fill');
const gpt = resolveModelConfig('char-tiny', { nLayer: 2, nEmbd: 32, vocabSize: 20, blockSize: 16 });
const llama = resolveModelConfig('llama-mini', {
  nLayer: 2,
  nEmbd: 48,
  vocabSize: 20,
  blockSize: 16,
  tieEmbeddings: false,
});

/** Every parameter of `b` equals the one of the same name in `a`, and both have the same names. */
function assertSameWeights(a: LanguageModel, b: LanguageModel): void {
  const pa = a.namedParameters();
  const pb = new Map(b.namedParameters());
  assert.deepEqual(
    [...pb.keys()],
    pa.map(([n]) => n),
  );
  for (const [name, p] of pa) assert.deepEqual(pb.get(name)!.data, p.data, name);
}

for (const cfg of [gpt, llama]) {
  test(`createModel without init: the random model's parameters, all zero (${cfg.arch})`, () => {
    const random = createModel(cfg, new Rng(3));
    const empty = createModel(cfg, { init: false });
    assert.deepEqual(
      empty.namedParameters().map(([n, p]) => [n, p.shape, p.requiresGrad]),
      random.namedParameters().map(([n, p]) => [n, p.shape, p.requiresGrad]),
    );
    for (const [name, p] of empty.namedParameters())
      assert.ok(
        p.data.every((v) => v === 0),
        `${name} is not zero`,
      );
    for (const [name, p] of random.namedParameters())
      if (p.ndim === 2)
        assert.ok(
          p.data.some((v) => v !== 0),
          `random ${name} is zero`,
        );
  });

  test(`saved then loaded without init: every parameter and the logits equal the saved model's (${cfg.arch})`, () => {
    const model = createModel(cfg, new Rng(5));
    const d = join(dir, `saved-${cfg.arch}`);
    saveModel(d, model);
    const loaded = loadModel(d);
    assertSameWeights(model, loaded);
    const ids = Int32Array.from([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(loaded.forward(ids, 1, 6).logits.data, model.forward(ids, 1, 6).logits.data);
  });
}

test("ModelFill: a parameter never taken is the loader's error, naming it; unknown names are undefined", () => {
  const fill = new ModelFill(gpt);
  const names = [...fill.parameters.keys()];
  assert.equal(fill.take('no.such.weight'), undefined);
  for (const name of names) if (name !== 'h.1.mlp.c_proj.bias') fill.take(name);
  assert.throws(
    () => fill.finish((name, p) => new RangeError(`weights.bin: "${name}" [${p.shape.join(', ')}] was not loaded`)),
    /^RangeError: weights\.bin: "h\.1\.mlp\.c_proj\.bias" \[32\] was not loaded$/,
  );
  fill.take('h.1.mlp.c_proj.bias');
  assert.equal(
    fill.finish(() => new Error('unreachable')),
    fill.model,
  );
});

test('GGUF: imported without init equals the exported model; a missing tensor names the file, the tensor and the parameter', () => {
  const model = createModel(llama, new Rng(6));
  const path = join(dir, 'model.gguf');
  writeGguf(path, ggufModelMetadata(model, 'f32'), ggufTensors(model, 'f32'));
  assertSameWeights(model, importGguf(path).model);
  const broken = join(dir, 'broken.gguf');
  writeGguf(
    broken,
    ggufModelMetadata(model, 'f32'),
    ggufTensors(model, 'f32').filter((t) => t.name !== 'blk.1.ffn_up.weight'),
  );
  assert.throws(
    () => importGguf(broken),
    (e: Error) => {
      assert.match(
        e.message,
        /broken\.gguf: tensor "blk\.1\.ffn_up\.weight" \(parameter model\.layers\.1\.mlp\.up_proj\.weight\) is missing$/,
      );
      assert.ok(e instanceof UserError);
      return true;
    },
  );
});

test('llm.c: read without init equals the written model', () => {
  const model = createModel(
    resolveModelConfig('char-tiny', { nLayer: 2, nEmbd: 32, vocabSize: 200, blockSize: 16 }),
    new Rng(8),
  );
  const path = join(dir, 'model.bin');
  writeLlmcCheckpoint(model, path);
  assertSameWeights(model, readLlmcCheckpoint(path));
});
