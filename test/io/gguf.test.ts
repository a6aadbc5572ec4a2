/**
 * GGUF without llama.cpp: the writer and reader agree on every metadata type, alignment and tensor type; Q8_0
 * stays within half a quantization step; the llama query/key row permutation is the adjacent-pair layout and its
 * inverse undoes it; exporting GPT-2 (tied, bias-free) and Llama (grouped-query, Qwen2 biases, untied head, a head
 * size other than C / H with linear RoPE scaling) and
 * importing back gives identical weights and logits (f32) or close ones (q8_0), with or without our
 * `llmforge.config` key; the tokenizer comes back encoding the same ids; broken files get one clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportGguf,
  ggufTensors,
  ggufModelMetadata,
  ggufTokenizerMetadata,
} from '../../src/export/gguf/export-gguf.ts';
import { GgmlType, GgufValueType, type GgufKv } from '../../src/export/gguf/gguf-format.ts';
import { permuteRotary } from '../../src/export/gguf/gguf-names.ts';
import { GgufReader } from '../../src/export/gguf/gguf-reader.ts';
import { writeGguf } from '../../src/export/gguf/gguf-writer.ts';
import { importGguf } from '../../src/export/gguf/import-gguf.ts';
import { dequantizeQ8_0, quantizeQ8_0 } from '../../src/export/gguf/q8-0.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel, ModelConfig } from '../../src/models/model.ts';
import { Rng } from '../../src/tensor/random.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { CORPUS, trainTokenizer } from './gguf-fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const dir = tempDir('gguf');
const tok = trainTokenizer();

function model(partial: Partial<ModelConfig>): LanguageModel {
  return createModel(
    completeModelConfig({ vocabSize: tok.vocabSize + 5, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, ...partial }),
    new Rng(5),
  );
}

function logits(m: LanguageModel, ids: number[]): Float32Array {
  return Float32Array.from(noGrad(() => m.forward(Int32Array.from(ids), 1, ids.length).logits.data));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test('writer and reader: every metadata type, arrays, alignment, F32/F16/Q8_0 tensors', () => {
  const path = join(dir, 'kinds.gguf');
  const meta: GgufKv[] = [
    { key: 'general.alignment', type: GgufValueType.UINT32, value: 64 },
    { key: 'u8', type: GgufValueType.UINT8, value: 200 },
    { key: 'i8', type: GgufValueType.INT8, value: -100 },
    { key: 'u16', type: GgufValueType.UINT16, value: 60000 },
    { key: 'i16', type: GgufValueType.INT16, value: -30000 },
    { key: 'i32', type: GgufValueType.INT32, value: -7 },
    { key: 'f32', type: GgufValueType.FLOAT32, value: 0.5 },
    { key: 'f64', type: GgufValueType.FLOAT64, value: Math.PI },
    { key: 'u64', type: GgufValueType.UINT64, value: 2 ** 40 },
    { key: 'i64', type: GgufValueType.INT64, value: -(2 ** 40) },
    { key: 'bool', type: GgufValueType.BOOL, value: true },
    { key: 'str', type: GgufValueType.STRING, value: 'héllo ✓' },
    { key: 'arr', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: ['a', '', 'Ġb'] },
    { key: 'ints', type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: [1, -2, 3] },
  ];
  const a = Float32Array.from({ length: 3 * 5 }, (_, i) => i - 7.25);
  const b = Float32Array.from({ length: 64 * 2 }, (_, i) => Math.sin(i) * 3);
  writeGguf(path, meta, [
    { name: 'a', dims: [5, 3], type: GgmlType.F32, data: a },
    { name: 'h', dims: [5, 3], type: GgmlType.F16, data: a },
    { name: 'q', dims: [64, 2], type: GgmlType.Q8_0, data: b },
  ]);
  const r = GgufReader.open(path);
  try {
    assert.equal(r.version, 3);
    assert.equal(r.alignment, 64);
    for (const kv of meta) assert.deepEqual(r.get(kv.key), kv.value, kv.key);
    assert.equal(r.metadataTypes.get('u64'), GgufValueType.UINT64);
    for (const t of r.tensors.values()) assert.equal(t.offset % 64, 0, `${t.name} aligned`);
    assert.deepEqual(r.tensors.get('a')!.dims, [5, 3]);
    assert.deepEqual(r.read('a'), a);
    assert.deepEqual(r.read('h'), a); // these values are exact in half precision
    assert.ok(maxDiff(r.read('q'), b) <= 3 / 127 / 2 + 1e-3);
  } finally {
    r.close();
  }
});

test('Q8_0: within half a step of each value, scale = max|x| / 127, zeros stay zero', () => {
  const n = 96;
  const x = Float32Array.from({ length: n }, (_, i) => (i % 32 === 0 ? 0 : Math.cos(i * 1.7) * (1 + (i >> 5))));
  x.fill(0, 64, 96);
  const q = new Uint8Array((n / 32) * 34);
  quantizeQ8_0(x, 0, n, q);
  const back = new Float32Array(n);
  dequantizeQ8_0(q, n, back, 0);
  for (let blk = 0; blk < 3; blk++) {
    const part = x.subarray(blk * 32, blk * 32 + 32);
    const step = Math.max(...part.map(Math.abs)) / 127;
    assert.ok(maxDiff(part, back.subarray(blk * 32, blk * 32 + 32)) <= step / 2 + step * 1e-3 + 1e-7, `block ${blk}`);
  }
  assert.deepEqual(back.subarray(64), new Float32Array(32));
  assert.throws(() => quantizeQ8_0(x, 0, 40, q), /multiple of 32/);
});

test('permuteRotary: rotate-half rows become adjacent pairs per head, and inverse undoes it', () => {
  // 2 heads of D = 4, one column: head rows [r0 r1 | r2 r3] pair (r0, r2) and (r1, r3) -> [r0 r2 r1 r3]
  assert.deepEqual([...permuteRotary([0, 1, 2, 3, 10, 11, 12, 13], 2, 1)], [0, 2, 1, 3, 10, 12, 11, 13]);
  const w = Float32Array.from({ length: 6 * 8 * 3 }, (_, i) => i);
  assert.deepEqual(permuteRotary(permuteRotary(w, 6, 3), 6, 3, true), w);
  assert.throws(() => permuteRotary(w, 5, 3), /even size/);
});

const CASES: [string, Partial<ModelConfig>][] = [
  ['gpt2 tied, no biases', { arch: 'gpt2', bias: false }],
  ['gpt2 untied', { arch: 'gpt2', tieEmbeddings: false }],
  ['llama GQA, qkv biases, untied', { arch: 'llama', nKvHead: 2, qkvBias: true, ropeTheta: 5e5, normEps: 1e-6 }],
  ['llama tied', { arch: 'llama', tieEmbeddings: true }],
  [
    'llama head size 24 (not 64 / 4), linear RoPE scaling',
    { arch: 'llama', nKvHead: 2, headDim: 24, ropeScaling: { type: 'linear', factor: 2 } },
  ],
];

for (const [label, partial] of CASES) {
  test(`round trip ${label}: f32 identical weights and logits, q8_0 close, without llmforge.config too`, () => {
    const m = model(partial);
    const ids = tok.encode('The old clock in the hall');
    const want = logits(m, ids);
    const f32 = join(dir, `${label}.f32.gguf`);
    exportGguf(m, f32, { type: 'f32', tokenizer: tok });
    const back = importGguf(f32);
    assert.deepEqual(back.model.config, m.config);
    const params = new Map(back.model.namedParameters());
    for (const [name, p] of m.namedParameters()) assert.deepEqual(params.get(name)!.data, p.data, name);
    assert.deepEqual(logits(back.model, ids), want);
    assert.deepEqual(back.tokenizer!.encode(CORPUS.slice(0, 300)), tok.encode(CORPUS.slice(0, 300)));
    assert.equal(back.tokenizer!.specialId('<|endoftext|>'), tok.specialId('<|endoftext|>'));

    // Without our config key the config is rebuilt from llama.cpp's metadata and the tensors present.
    const plain = join(dir, `${label}.plain.gguf`);
    const metadata = [...ggufModelMetadata(m, 'f32'), ...ggufTokenizerMetadata(tok, m.config.vocabSize)].filter(
      (kv) => kv.key !== 'llmforge.config',
    );
    writeGguf(plain, metadata, ggufTensors(m, 'f32'));
    const rebuilt = importGguf(plain).model;
    const expected = { ...m.config, ...(m.config.arch === 'gpt2' ? { bias: true } : {}) };
    if (expected.qkvBias !== true) delete expected.qkvBias;
    assert.deepEqual(rebuilt.config, expected);
    assert.ok(maxDiff(logits(rebuilt, ids), want) < 1e-5);

    const q8 = join(dir, `${label}.q8_0.gguf`);
    exportGguf(m, q8, { type: 'q8_0', tokenizer: tok });
    const r = GgufReader.open(q8);
    try {
      assert.equal(r.get('general.file_type'), 7);
      for (const t of r.tensors.values())
        assert.equal(t.type, t.dims.length === 2 ? GgmlType.Q8_0 : GgmlType.F32, t.name);
      assert.equal(r.tensors.has('output.weight'), !m.config.tieEmbeddings);
    } finally {
      r.close();
    }
    const approx = logits(importGguf(q8).model, ids);
    assert.ok(maxDiff(approx, want) < 0.05, `q8_0 logits differ by ${maxDiff(approx, want)}`);
  });
}

test('llama.cpp metadata: names, dims reversed, head counts, rope and tokenizer keys', () => {
  const m = model({ arch: 'llama', nKvHead: 2 });
  const path = join(dir, 'meta.gguf');
  exportGguf(m, path, { type: 'f16', tokenizer: tok, name: 'tiny' });
  const r = GgufReader.open(path);
  try {
    assert.equal(r.get('general.architecture'), 'llama');
    assert.equal(r.get('general.name'), 'tiny');
    assert.equal(r.get('llama.attention.head_count_kv'), 2);
    assert.equal(r.get('llama.rope.dimension_count'), 16);
    assert.equal(r.get('llama.feed_forward_length'), m.config.mlpHidden);
    assert.equal(r.get('tokenizer.ggml.pre'), 'gpt-2');
    assert.equal((r.get('tokenizer.ggml.tokens') as string[]).length, m.config.vocabSize);
    assert.equal((r.get('tokenizer.ggml.token_type') as number[]).at(-1), 5); // padding rows beyond the tokenizer
    assert.equal(r.get('tokenizer.ggml.eos_token_id'), tok.specialId('<|endoftext|>'));
    assert.deepEqual(r.tensors.get('blk.1.attn_k.weight')!.dims, [64, 32]);
    assert.deepEqual(r.tensors.get('blk.0.ffn_gate.weight')!.dims, [64, m.config.mlpHidden]);
    assert.equal(r.tensors.get('blk.0.ffn_gate.weight')!.type, GgmlType.F16);
    assert.equal(r.tensors.get('blk.0.attn_norm.weight')!.type, GgmlType.F32);
  } finally {
    r.close();
  }
});

test('broken files: bad magic, unsupported version, truncation, unknown tensor type each name the file', () => {
  const good = join(dir, 'good.gguf');
  exportGguf(model({ arch: 'gpt2' }), good, { tokenizer: tok });
  const bytes = readFileSync(good);
  const write = (name: string, b: Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, b);
    return p;
  };
  const magic = write('magic.gguf', Buffer.concat([Buffer.from('GGML'), bytes.subarray(4)]));
  assert.throws(
    () => GgufReader.open(magic),
    (e: Error) => e instanceof UserError && e.message.includes(magic) && /not a GGUF file \(magic/.test(e.message),
  );
  const v = Buffer.from(bytes);
  v.writeUInt32LE(9, 4);
  assert.throws(() => GgufReader.open(write('version.gguf', v)), /GGUF version 9 is not supported \(expected 2 or 3\)/);
  assert.throws(() => GgufReader.open(write('short.gguf', bytes.subarray(0, 2000))), /truncated GGUF file/);
  assert.throws(
    () => GgufReader.open(write('tail.gguf', bytes.subarray(0, bytes.length - 100))),
    /runs past the end of the file/,
  );
  const odd = join(dir, 'odd.gguf');
  writeGguf(odd, [], [{ name: 'x', dims: [32], type: GgmlType.F32, data: new Float32Array(32) }]);
  const t = readFileSync(odd);
  t.writeUInt32LE(12, t.indexOf(Buffer.from('x')) + 1 + 4 + 8); // the type field after name, n_dims, dims[0]
  assert.throws(
    () => GgufReader.open(write('type.gguf', t)),
    /tensor "x" has ggml type 12; llmforge reads F32 \(0\), F16 \(1\) and Q8_0 \(8\)/,
  );
  assert.throws(() => GgufReader.open(join(dir, 'missing.gguf')), /missing\.gguf: cannot open \(ENOENT\)/);
});
