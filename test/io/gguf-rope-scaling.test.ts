/**
 * GGUF and Llama RoPE scaling (the linear case runs in gguf.test.ts's round trips): a model with llama3 scaling and
 * a head size other than C / H exports `rope_freqs.weight` holding, per frequency, base / scaled (what llama.cpp
 * divides each frequency by) with key_length, value_length and rope.dimension_count set to the head size, and
 * imports back to the same config and logits. What llmforge cannot reproduce from llama.cpp's own metadata is one
 * error naming the key or tensor: rope_freqs.weight without our config, a scaling type other than linear, a rotary
 * dimension other than the head size, and a rope_freqs.weight that disagrees with our config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportGguf, ggufTensors, ggufModelMetadata } from '../../src/export/gguf/export-gguf.ts';
import { GgufValueType, type GgufKv } from '../../src/export/gguf/gguf-format.ts';
import { GgufReader } from '../../src/export/gguf/gguf-reader.ts';
import { writeGguf } from '../../src/export/gguf/gguf-writer.ts';
import { importGguf } from '../../src/export/gguf/import-gguf.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { ropeInverseFrequencies } from '../../src/models/rope-scaling.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const dir = tempDir('gguf-rope');
const LLAMA3 = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 } as const;
const model = createModel(
  completeModelConfig({
    arch: 'llama',
    vocabSize: 40,
    blockSize: 32,
    nLayer: 1,
    nHead: 4,
    nKvHead: 2,
    nEmbd: 32,
    headDim: 12,
    ropeScaling: LLAMA3,
  }),
  new Rng(3),
);
const IDS = [1, 5, 9, 30, 2, 7, 11, 39, 0, 4, 8, 15, 16, 23, 2, 3, 6, 19, 21, 27];

function logits(m: LanguageModel): Float32Array {
  return Float32Array.from(noGrad(() => m.forward(Int32Array.from(IDS), 1, IDS.length).logits.data));
}

/** A UINT32 metadata entry. */
const u32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value });

/** Writes `model` with its metadata edited by `edit`, without llmforge.config unless kept, rope_freqs.weight unless dropped. */
function writeEdited(name: string, edit: (kvs: GgufKv[]) => GgufKv[], keepConfig = false, dropFreqs = false): string {
  const path = join(dir, name);
  const kvs = ggufModelMetadata(model, 'f32').filter((kv) => keepConfig || kv.key !== 'llmforge.config');
  writeGguf(
    path,
    edit(kvs),
    ggufTensors(model, 'f32').filter((t) => !dropFreqs || t.name !== 'rope_freqs.weight'),
  );
  return path;
}

test('llama3 scaling and head size 12: rope_freqs.weight holds base / scaled per frequency; import is lossless', () => {
  const path = join(dir, 'llama3.gguf');
  exportGguf(model, path);
  const r = GgufReader.open(path);
  try {
    for (const key of ['llama.attention.key_length', 'llama.attention.value_length', 'llama.rope.dimension_count'])
      assert.equal(r.get(key), 12, key);
    assert.deepEqual(r.tensors.get('rope_freqs.weight')!.dims, [6]);
    const base = ropeInverseFrequencies(12, 10000);
    const scaled = ropeInverseFrequencies(12, 10000, LLAMA3);
    const stored = r.read('rope_freqs.weight');
    // wavelengths 6.3 (< 32/4: kept, factor 1), 29.2 (between: blended), 135 and up (> 32/1: factor 8)
    assert.equal(stored[0], 1);
    assert.ok(stored[1]! > 1 && stored[1]! < 8, `blended factor ${stored[1]}`);
    for (let i = 2; i < 6; i++) assert.ok(Math.abs(stored[i]! - 8) < 1e-5, `factor ${i} = ${stored[i]}`);
    stored.forEach((f, i) => {
      assert.ok(Math.abs(f - base[i]! / scaled[i]!) <= 1e-6 * f);
    });
    assert.equal(
      r.metadata.has('llama.rope.scaling.type'),
      false,
      'llama3 scaling travels as the tensor, as llama.cpp writes it',
    );
  } finally {
    r.close();
  }
  const back = importGguf(path).model;
  assert.deepEqual(back.config, model.config);
  assert.deepEqual(logits(back), logits(model));
});

test('what llama.cpp metadata cannot express for llmforge is one error naming the key or tensor', () => {
  const fails: [string, RegExp][] = [
    [
      writeEdited('foreign-llama3.gguf', (kvs) => kvs),
      /tensor "rope_freqs\.weight" \(per-frequency RoPE factors, Llama 3\.1 style scaling\) is only supported in GGUF files llmforge wrote/,
    ],
    [
      writeEdited(
        'yarn.gguf',
        (kvs) => [...kvs, { key: 'llama.rope.scaling.type', type: GgufValueType.STRING, value: 'yarn' }],
        false,
        true,
      ),
      /llama\.rope\.scaling\.type "yarn" is not supported/,
    ],
    [
      writeEdited(
        'partial.gguf',
        (kvs) => kvs.map((kv) => (kv.key === 'llama.rope.dimension_count' ? u32(kv.key, 8) : kv)),
        false,
        true,
      ),
      /llama\.rope\.dimension_count 8 is not the head size 12 \(partial rotary embeddings are not supported\)/,
    ],
    [
      writeEdited(
        'kv-differ.gguf',
        (kvs) => kvs.map((kv) => (kv.key === 'llama.attention.value_length' ? u32(kv.key, 16) : kv)),
        false,
        true,
      ),
      /value_length 16 differs from key_length 12/,
    ],
    [
      writeEdited('freqs-missing.gguf', (kvs) => kvs, true, true),
      /tensor "rope_freqs\.weight" is missing, expected the 6 llama3 RoPE factors llmforge\.config implies/,
    ],
  ];
  for (const [path, re] of fails) {
    assert.throws(
      () => importGguf(path),
      (e: Error) => e instanceof UserError && e.message.startsWith(path) && re.test(e.message),
      path,
    );
  }
  // Without the rope_freqs tensor the rest of llama.cpp's metadata rebuilds head size 12 (the scaling is lost).
  const plain = importGguf(writeEdited('plain.gguf', (kvs) => kvs, false, true)).model.config;
  assert.equal(plain.headDim, 12);
  assert.equal(plain.ropeScaling, undefined);
});
