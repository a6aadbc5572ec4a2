/**
 * The fused Llama decoder (src/models/llama-decode.ts, native/src/decode.cc llama_decode_block): in fp32 its logits
 * equal the op-by-op cached forward bit for bit (same kernels, same order) and the full uncached forward within
 * 1e-5 relative, on llama-mini-shaped tiny configs (grouped-query nKvHead < nHead, multi-head, one kv head; tied
 * and untied heads; with and without biases; an MLP width with vector tails; a head size other than C / H with
 * llama3 or linear RoPE scaling) for 77 decoded positions, past the
 * attention kernel's 64-key block; greedy generation gives the same tokens as the op-by-op forward, through a
 * context slide (the cache refilled by a prefill); the block kernel takes the head size and the RoPE cos/sin as given
 * (H * D != C, arbitrary angles) and matches the same ops composed by hand; bf16 weights stay within bf16 rounding;
 * the binding rejects bad shapes with a clear message; and the decoder steps aside (null) where it does not apply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuInfo, decodeKernels, withBackend } from '../../src/backend/index.ts';
import { generate } from '../../src/generate/generate.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { KVBuffers } from '../../src/models/kv-cache.ts';
import type { LanguageModel, ModelConfig } from '../../src/models/model.ts';
import { applyLora } from '../../src/nn/lora.ts';
import * as F from '../../src/ops/index.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const kernels = decodeKernels();
const skip = kernels ? false : 'the native addon is not built';
const skipBf16 =
  skip || (cpuInfo()?.isa === 'avx512' ? false : 'bf16 decoding needs AVX-512 (LLMFORGE_ISA or the CPU caps it)');
const CONTEXT = 80;

function tinyLlama(over: Partial<ModelConfig>, seed: number): LanguageModel {
  const cfg = completeModelConfig({
    arch: 'llama',
    vocabSize: 37,
    blockSize: CONTEXT,
    nLayer: 2,
    nHead: 4,
    nKvHead: 2,
    nEmbd: 40,
    mlpHidden: 100,
    ...over,
  });
  const model = createModel(cfg, new Rng(seed));
  for (const p of model.parameters())
    for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 3 + (p.ndim === 1 ? 0.05 * Math.sin(i) : 0);
  model.eval();
  return model;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const CASES: [string, Partial<ModelConfig>][] = [
  ['llama-mini shape: 6 heads over 2 kv heads, untied', { nHead: 6, nKvHead: 2, nEmbd: 48 }],
  ['4 heads, 4 kv heads, tied head', { nKvHead: 4, tieEmbeddings: true }],
  ['4 heads over 1 kv head, biases and q/k/v biases, untied', { nKvHead: 1, bias: true, qkvBias: true }],
  [
    'head size 16 != C / H, llama3 RoPE scaling',
    {
      headDim: 16,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 },
    },
  ],
  [
    'head size 6, linear RoPE scaling, tied head',
    { headDim: 6, ropeScaling: { type: 'linear', factor: 2 }, tieEmbeddings: true },
  ],
];

for (const [name, over] of CASES) {
  test(`fp32 decoder (${name}) equals the op-by-op cached forward bit for bit`, { skip }, () => {
    const model = tinyLlama(over, 3);
    const fused = model.createCache(1, CONTEXT);
    const plain = model.createCache(1, CONTEXT);
    const ids = Array.from({ length: CONTEXT }, (_, i) => (i * 11 + 5) % 37);
    for (const cache of [fused, plain])
      noGrad(() => model.forward(Int32Array.from(ids.slice(0, 3)), 1, 3, null, { cache, lastOnly: true }));
    const dec = model.decoder('fp32');
    assert.ok(dec, 'a plain Llama on the native backend has a decoder');
    assert.equal(dec.precision, 'fp32');
    for (let t = 3; t < CONTEXT; t++) {
      const got = dec.step(ids[t]!, fused);
      const op = noGrad(
        () => model.forward(Int32Array.of(ids[t]!), 1, 1, null, { cache: plain, lastOnly: true }).logits.data,
      );
      const diff = maxAbsDiff(got, op);
      assert.equal(diff, 0, `position ${t}: max |fused - op-by-op| = ${diff}`);
      assert.equal(fused.length, t + 1);
      if (t % 25 === 4) {
        // and the uncached full forward, which runs other GEMM blockings
        const out = noGrad(() => model.forward(Int32Array.from(ids.slice(0, t + 1)), 1, t + 1).logits);
        const ref = out.data.subarray(out.size - model.config.vocabSize);
        const scale = Math.max(1, ...Array.from(ref, Math.abs));
        assert.ok(
          maxAbsDiff(got, ref) <= 1e-5 * scale,
          `position ${t}: max |fused - full forward| = ${maxAbsDiff(got, ref)}`,
        );
      }
    }
    for (let layer = 0; layer < model.config.nLayer; layer++) {
      const [ka, va] = KVBuffers.check(fused, model.config, 1, 0).layerStorage(layer);
      const [kb, vb] = KVBuffers.check(plain, model.config, 1, 0).layerStorage(layer);
      assert.equal(
        maxAbsDiff(ka, kb) + maxAbsDiff(va, vb),
        0,
        `layer ${layer}: the cached (rotated) keys and values match`,
      );
    }
  });
}

test('greedy generation: the same tokens as the op-by-op forward, through a context slide', { skip }, () => {
  for (const [name, over] of CASES) {
    const model = tinyLlama(over, 11);
    const prompt = [1, 5, 9, 2, 7, 3, 30, 4];
    const notes: string[] = [];
    const fused = generate(model, prompt, { temperature: 0, maxNewTokens: 110, onNote: (m) => notes.push(m) });
    const opByOp = generate(Object.assign(tinyLlama(over, 11), { decoder: () => null }), prompt, {
      temperature: 0,
      maxNewTokens: 110,
    });
    assert.equal(fused.decodePath, 'fp32', name);
    assert.equal(opByOp.decodePath, 'forward', name);
    assert.deepEqual(fused.ids, opByOp.ids, name);
    assert.equal(fused.ids.length, 110, name);
    assert.ok(
      notes.some((m) => m.startsWith(`context full (${CONTEXT} tokens)`)),
      `${name}: the generation slid its context`,
    );
  }
});

test('llamaDecodeBlock takes D and the RoPE row as inputs: H * D != C and arbitrary angles match the ops composed', {
  skip,
}, () => {
  const C = 12,
    H = 4,
    Hkv = 2,
    D = 6,
    Fh = 20,
    pos = 2,
    eps = 1e-5; // q is H * D = 24 wide, not C
  const rng = new Rng(21);
  const rand = (n: number, std = 0.5): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * std);
  const w = {
    ln1: rand(C),
    q: rand(H * D * C),
    qB: rand(H * D),
    k: rand(Hkv * D * C),
    kB: rand(Hkv * D),
    v: rand(Hkv * D * C),
    vB: rand(Hkv * D),
    o: rand(C * H * D),
    oB: rand(C),
    ln2: rand(C),
    gate: rand(Fh * C),
    gateB: rand(Fh),
    up: rand(Fh * C),
    upB: rand(Fh),
    down: rand(C * Fh),
    downB: rand(C),
  };
  const angles = rand(D / 2, 3); // any table (scaled RoPE variants only change these)
  const cos = angles.map(Math.cos);
  const sin = angles.map(Math.sin);
  const x0 = rand(C, 1);
  const kc = rand((pos + 1) * Hkv * D, 1); // positions 0..pos-1 cached; pos gets written
  const vc = rand((pos + 1) * Hkv * D, 1);
  const t = (a: Float32Array, shape: number[]): Tensor => new Tensor(a, shape);
  const ref = noGrad(() => {
    const lin = (x: Tensor, W: Float32Array, b: Float32Array, n: number): Tensor =>
      F.linear(x, t(W, [n, x.shape[x.ndim - 1]!]), t(b, [n]));
    const tables = { cos, sin, T: 1, D };
    const h = F.rmsNorm(t(x0.slice(), [1, 1, C]), t(w.ln1, [C]), eps);
    const q = F.rope(F.reshape(lin(h, w.q, w.qB, H * D), [1, 1, H, D]), tables);
    const k = F.rope(F.reshape(lin(h, w.k, w.kB, Hkv * D), [1, 1, Hkv, D]), tables);
    const v = F.reshape(lin(h, w.v, w.vB, Hkv * D), [1, 1, Hkv, D]);
    const prefix = (c: Float32Array): Tensor => t(c.slice(0, pos * Hkv * D), [1, pos, Hkv, D]);
    const kAll = F.concat([prefix(kc), k], 1);
    const vAll = F.concat([prefix(vc), v], 1);
    const att = F.reshape(F.attention(q, kAll, vAll, { causal: true, qOffset: pos }), [1, 1, H * D]);
    const x1 = F.add(t(x0.slice(), [1, 1, C]), lin(att, w.o, w.oB, C));
    const h2 = F.rmsNorm(x1, t(w.ln2, [C]), eps);
    const m = F.mul(F.silu(lin(h2, w.gate, w.gateB, Fh)), lin(h2, w.up, w.upB, Fh));
    return { x: F.add(x1, lin(m, w.down, w.downB, C)).data, k: kAll.data, v: vAll.data };
  });
  const x = x0.slice();
  kernels!.llamaDecodeBlock(
    x,
    w.ln1,
    w.q,
    w.qB,
    w.k,
    w.kB,
    w.v,
    w.vB,
    w.o,
    w.oB,
    w.ln2,
    w.gate,
    w.gateB,
    w.up,
    w.upB,
    w.down,
    w.downB,
    kc,
    vc,
    cos,
    sin,
    pos,
    C,
    H,
    Hkv,
    D,
    Fh,
    eps,
  );
  assert.deepEqual(Array.from(x), Array.from(ref.x));
  assert.deepEqual(Array.from(kc), Array.from(ref.k), 'the rotated key is appended at pos');
  assert.deepEqual(Array.from(vc), Array.from(ref.v));
});

test('bf16 decoder: logits within bf16 rounding of fp32, and generate reports the path it ran', {
  skip: skipBf16,
}, () => {
  const model = tinyLlama({ nHead: 6, nKvHead: 2, nEmbd: 48 }, 5);
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  const a = model.createCache(1, CONTEXT);
  const b = model.createCache(1, CONTEXT);
  const bf = model.decoder('bf16')!;
  const fp = model.decoder('fp32')!;
  assert.equal(bf.precision, 'bf16');
  for (const id of ids) {
    const got = bf.step(id, a);
    const ref = fp.step(id, b);
    const scale = Math.max(...Array.from(ref, Math.abs));
    const err = maxAbsDiff(got, ref);
    assert.ok(err > 0 && err <= 0.03 * scale, `max |bf16 - fp32| = ${err} against max |logit| ${scale}`);
  }
  assert.equal(
    generate(model, [1, 2, 3], { temperature: 0, maxNewTokens: 6, decodePrecision: 'bf16' }).decodePath,
    'bf16',
  );
});

test('llamaDecodeBlock rejects bad shapes and weights with the argument named', { skip }, () => {
  const k = kernels!;
  const C = 8,
    H = 2,
    Hkv = 1,
    D = 4,
    F = 16;
  const f = (n: number): Float32Array => new Float32Array(n);
  const call = (over: { H?: number; Hkv?: number; D?: number; qW?: Float32Array | Uint16Array | Int32Array }): void =>
    k.llamaDecodeBlock(
      f(C),
      f(C),
      (over.qW ?? f(H * D * C)) as Float32Array,
      null,
      f(Hkv * D * C),
      null,
      f(Hkv * D * C),
      null,
      f(C * H * D),
      null,
      f(C),
      f(F * C),
      null,
      f(F * C),
      null,
      f(C * F),
      null,
      f(Hkv * D),
      f(Hkv * D),
      f(D / 2),
      f(D / 2),
      0,
      C,
      over.H ?? H,
      over.Hkv ?? Hkv,
      over.D ?? D,
      F,
      1e-5,
    );
  call({}); // well formed: no throw
  assert.throws(
    () => call({ H: 3, Hkv: 2 }),
    /llamaDecodeBlock: .*H a positive multiple of Hkv; received C 8, H 3, Hkv 2/,
  );
  assert.throws(() => call({ D: 3 }), /an even D/);
  assert.throws(
    () => call({ qW: f(H * D * C - 1) }),
    /llamaDecodeBlock: argument 2 has 63 elements, needs at least 64/,
  );
  assert.throws(
    () => call({ qW: new Int32Array(H * D * C) }),
    /llamaDecodeBlock: argument 2 must be a Float32Array or a Uint16Array \(bf16\), received an Int32Array/,
  );
});

test('no Llama decoder where it does not apply: LoRA, the reference backend, dropout in training', { skip }, () => {
  const lora = tinyLlama({}, 7);
  applyLora(lora, { r: 2, alpha: 4, targets: ['q_proj', 'v_proj'] });
  assert.equal(lora.decoder('fp32'), null);
  const plain = tinyLlama({}, 7);
  withBackend('reference', () => assert.equal(plain.decoder('fp32'), null));
  const dropout = tinyLlama({ dropout: 0.1 }, 7);
  dropout.train(true);
  assert.equal(dropout.decoder('fp32'), null);
  dropout.eval();
  assert.ok(dropout.decoder('fp32'));
  const notes: string[] = [];
  const r = generate(lora, [1, 2], {
    temperature: 0,
    maxNewTokens: 4,
    decodePrecision: 'bf16',
    onNote: (m) => notes.push(m),
  });
  assert.equal(r.decodePath, 'forward');
  assert.deepEqual(notes, ['bf16 decoding is not available for this model or backend; decoding in fp32']);
});
