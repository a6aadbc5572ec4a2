/**
 * The fused GPT-2 decoder (src/models/gpt-decode.ts, native/src/decode.cc): in fp32 its logits equal the uncached
 * full forward within 1e-5 relative and the op-by-op cached forward within 1e-6, on odd sizes, with and without biases,
 * tied and untied heads; bf16 weights stay within bf16 rounding of fp32; the bf16 GEMV matches a float64
 * reference over the same rounded weights (tails of K and N included); bfloat16 rounding is to nearest even;
 * and the decoder steps aside (null) where it does not apply: LoRA wrappers, the reference backend (Llama's fused
 * decoder has its own tests in llama-decode.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuInfo, decodeKernels, withBackend } from '../../src/backend/index.ts';
import { generate } from '../../src/generate/generate.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { applyLora } from '../../src/nn/lora.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';

const kernels = decodeKernels();
const skip = kernels ? false : 'the native addon is not built';
const skipBf16 =
  skip || (cpuInfo()?.isa === 'avx512' ? false : 'bf16 decoding needs AVX-512 (LLMFORGE_ISA or the CPU caps it)');

function tinyGpt(opts: { bias: boolean; tie: boolean; seed: number }): LanguageModel {
  // C = 40, H = 4 (D = 10), F = 160, V = 37: K and N tails on every GEMV.
  const cfg = completeModelConfig({
    arch: 'gpt2',
    vocabSize: 37,
    blockSize: 32,
    nLayer: 2,
    nHead: 4,
    nEmbd: 40,
    bias: opts.bias,
    tieEmbeddings: opts.tie,
  });
  const model = createModel(cfg, new Rng(opts.seed));
  for (const p of model.parameters())
    for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 3 + (p.ndim === 1 ? 0.05 * Math.sin(i) : 0);
  model.eval();
  return model;
}

function lastLogits(model: LanguageModel, ids: number[]): Float32Array {
  const V = model.config.vocabSize;
  const out = noGrad(() => model.forward(Int32Array.from(ids), 1, ids.length).logits);
  return Float32Array.from(out.data.subarray(out.size - V));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const [bias, tie] of [
  [true, true],
  [false, false],
  [true, false],
] as const) {
  test(`fp32 decoder (bias ${bias}, tied ${tie}) equals the full forward and the op-by-op cached forward`, {
    skip,
  }, () => {
    const model = tinyGpt({ bias, tie, seed: 3 });
    const ids = Array.from({ length: 20 }, (_, i) => (i * 11 + 5) % 37);
    const fused = model.createCache(1, 32);
    const plain = model.createCache(1, 32);
    for (const cache of [fused, plain])
      noGrad(() => model.forward(Int32Array.from(ids.slice(0, 5)), 1, 5, null, { cache, lastOnly: true }));
    const dec = model.decoder('fp32');
    assert.ok(dec, 'a plain GPT on the native backend has a decoder');
    assert.equal(dec.precision, 'fp32');
    for (let t = 5; t < ids.length; t++) {
      const got = dec.step(ids[t]!, fused);
      const ref = lastLogits(model, ids.slice(0, t + 1));
      const op = noGrad(
        () => model.forward(Int32Array.of(ids[t]!), 1, 1, null, { cache: plain, lastOnly: true }).logits.data,
      );
      const scale = Math.max(1, ...Array.from(ref, Math.abs)); // the full forward runs other GEMM blockings
      assert.ok(
        maxAbsDiff(got, ref) <= 1e-5 * scale,
        `position ${t}: max |fused - full forward| = ${maxAbsDiff(got, ref)}, max |logit| ${scale}`,
      );
      assert.ok(maxAbsDiff(got, op) <= 1e-6, `position ${t}: max |fused - cached forward| = ${maxAbsDiff(got, op)}`);
      assert.equal(fused.length, t + 1);
    }
  });
}

test('bf16 decoder: logits within bf16 rounding of fp32, and generate reports the path it ran', {
  skip: skipBf16,
}, () => {
  const model = tinyGpt({ bias: true, tie: true, seed: 5 });
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  const cache = model.createCache(1, 32);
  noGrad(() => model.forward(Int32Array.from(ids.slice(0, 4)), 1, 4, null, { cache, lastOnly: true }));
  const dec = model.decoder('bf16')!;
  assert.equal(dec.precision, 'bf16');
  for (let t = 4; t < ids.length; t++) {
    const got = dec.step(ids[t]!, cache);
    const ref = lastLogits(model, ids.slice(0, t + 1));
    let scale = 0;
    for (const v of ref) scale = Math.max(scale, Math.abs(v));
    const err = maxAbsDiff(got, ref);
    assert.ok(err > 0 && err <= 0.03 * scale, `position ${t}: max |bf16 - fp32| = ${err} against max |logit| ${scale}`);
  }
  assert.equal(
    generate(model, [1, 2, 3], { temperature: 0, maxNewTokens: 6, decodePrecision: 'bf16' }).decodePath,
    'bf16',
  );
  assert.equal(generate(model, [1, 2, 3], { temperature: 0, maxNewTokens: 6 }).decodePath, 'fp32');
});

test('decodeGemv bf16 equals a float64 reference over the rounded weights (tails of N and K)', { skip }, () => {
  const rng = new Rng(9);
  for (const [N, K] of [
    [1, 1],
    [7, 15],
    [9, 16],
    [65, 33],
    [130, 384],
  ] as const) {
    const w = Float32Array.from({ length: N * K }, () => rng.normal());
    const x = Float32Array.from({ length: K }, () => rng.normal());
    const bias = Float32Array.from({ length: N }, () => rng.normal());
    const wb = new Uint16Array(N * K);
    kernels!.toBf16(w, wb);
    const widened = new Float32Array(new Uint32Array(Array.from(wb, (h) => h << 16)).buffer);
    for (const b of [bias, null]) {
      const y = new Float32Array(N);
      kernels!.decodeGemv(wb, b, x, y, N, K);
      for (let j = 0; j < N; j++) {
        let s = b ? b[j]! : 0;
        let mag = Math.abs(s);
        for (let p = 0; p < K; p++) {
          s += widened[j * K + p]! * x[p]!;
          mag += Math.abs(widened[j * K + p]! * x[p]!);
        }
        assert.ok(Math.abs(y[j]! - s) <= 1e-5 * mag + 1e-6, `N ${N} K ${K} row ${j}: ${y[j]} vs ${s}`);
      }
      const y32 = new Float32Array(N);
      kernels!.decodeGemv(w, b, x, y32, N, K); // the fp32 weight path agrees with the same sums unrounded
      for (let j = 0; j < N; j++) {
        let s = b ? b[j]! : 0;
        for (let p = 0; p < K; p++) s += w[j * K + p]! * x[p]!;
        assert.ok(Math.abs(y32[j]! - s) <= 1e-4 * Math.sqrt(K), `fp32 N ${N} K ${K} row ${j}`);
      }
    }
  }
});

test('toBf16 rounds to nearest even and keeps infinities, signed zero and NaN', { skip }, () => {
  const cases: [number, number][] = [
    [1, 0x3f80],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [1 + 2 ** -8, 0x3f80], // halfway, even below: down
    [1 + 3 * 2 ** -8, 0x3f82], // halfway, even above: up
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // above halfway: up
    [3.4e38, 0x7f80], // rounds past the largest bf16 to infinity
  ];
  const all = [...cases, ...cases, ...cases, [NaN, -1] as [number, number]]; // 34 elements: vector body and scalar tail
  const src = Float32Array.from(all.map(([v]) => v));
  const dst = new Uint16Array(src.length);
  kernels!.toBf16(src, dst);
  all.forEach(([v, bits], i) => {
    if (bits >= 0)
      assert.equal(dst[i], bits, `element ${i}: ${v} -> 0x${dst[i]!.toString(16)}, expected 0x${bits.toString(16)}`);
  });
  for (const i of [src.length - 1, 5]) {
    const nan = new Uint16Array(src.length);
    const x = src.slice();
    x[i] = NaN;
    kernels!.toBf16(x, nan);
    assert.ok((nan[i]! & 0x7f80) === 0x7f80 && (nan[i]! & 0x7f) !== 0, `NaN at ${i} stays NaN`);
  }
});

test('no decoder where it does not apply: LoRA, the reference backend; generate falls back with a note', {
  skip,
}, () => {
  const lora = tinyGpt({ bias: true, tie: true, seed: 7 });
  applyLora(lora, { r: 2, alpha: 4, targets: ['c_attn'] });
  assert.equal(lora.decoder('fp32'), null);
  const plain = tinyGpt({ bias: true, tie: true, seed: 7 });
  withBackend('reference', () => assert.equal(plain.decoder('fp32'), null));
  if (cpuInfo()?.isa !== 'avx512') assert.equal(plain.decoder('bf16'), null, 'no bf16 decoder without AVX-512 kernels');
  const notes: string[] = [];
  const r = generate(lora, [1, 2], {
    temperature: 0,
    maxNewTokens: 4,
    decodePrecision: 'bf16',
    onNote: (m) => notes.push(m),
  });
  assert.equal(r.decodePath, 'forward');
  assert.deepEqual(notes, ['bf16 decoding is not available for this model or backend; decoding in fp32']);
  assert.throws(
    () => generate(plain, [1], { decodePrecision: 'fp16' as 'fp32' }),
    /decodePrecision: expected one of fp32, bf16, received 'fp16'/,
  );
});
