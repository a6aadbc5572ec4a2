/**
 * llm.c formats: a GPT-2 written as an llm.c checkpoint and read back has identical weights and logits (fp32) or
 * bf16-rounded ones, the header and padded vocabulary are llm.c's, a bias-free GPT-2 comes back with zero biases
 * and the same logits, models llm.c cannot hold are refused with the reason, and wrong or damaged files get one
 * clear error naming the file. A prepared dataset exported to llm.c shards reads back token for token; the
 * tokenizer file lists every token's bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMeta } from '../../src/data/meta.ts';
import { prepareData } from '../../src/data/prepare.ts';
import { HEADER_BYTES, readShardHeader } from '../../src/data/shards.ts';
import { decodeInto, encodeInto } from '../../src/io/dtypes.ts';
import { paddedVocab, readLlmcCheckpoint, writeLlmcCheckpoint } from '../../src/export/llmc/llmc-checkpoint.ts';
import { exportLlmcShards } from '../../src/export/llmc/llmc-dataset.ts';
import { readLlmcShard, writeLlmcShard } from '../../src/io/llmc/llmc-shards.ts';
import { writeLlmcTokenizer } from '../../src/export/llmc/llmc-tokenizer.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel, ModelConfig } from '../../src/models/model.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CORPUS, trainTokenizer } from './gguf-fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const dir = tempDir('llmc');

function gpt(partial: Partial<ModelConfig> = {}): LanguageModel {
  const m = createModel(
    completeModelConfig({ arch: 'gpt2', vocabSize: 300, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 32, ...partial }),
    new Rng(9),
  );
  // Biases and norm gains start at 0 and 1: give them values so their order in the file is tested too.
  const rng = new Rng(4);
  for (const p of m.parameters())
    if (p.ndim === 1) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! + 0.1 * rng.normal();
  return m;
}

function logits(m: LanguageModel): Float32Array {
  const ids = Int32Array.from({ length: 10 }, (_, i) => (i * 37) % m.config.vocabSize);
  return Float32Array.from(noGrad(() => m.forward(ids, 1, ids.length).logits.data));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test('checkpoint fp32: llm.c header, padded vocabulary, identical weights and logits after the round trip', () => {
  const m = gpt();
  const path = join(dir, 'model.bin');
  writeLlmcCheckpoint(m, path);
  const bytes = readFileSync(path);
  const header = Array.from({ length: 8 }, (_, i) => bytes.readInt32LE(4 * i));
  assert.deepEqual(header, [20240326, 3, 24, 300, 2, 2, 32, 384]);
  assert.equal(paddedVocab(50257), 50304);
  const C = 32;
  const L = 2;
  const params = 384 * C + 24 * C + L * (12 * C * C + 13 * C) + 2 * C;
  assert.equal(bytes.length, 1024 + 4 * params);
  // wte rows 300..383 are zero padding; wpe follows at row 384
  for (let i = 300 * C; i < 384 * C; i++) assert.equal(bytes.readFloatLE(1024 + 4 * i), 0);
  assert.equal(
    bytes.readFloatLE(1024 + 4 * 384 * C),
    (m as unknown as { wpe: { weight: { data: Float32Array } } }).wpe.weight.data[0],
  );
  // llm.c's layout written out independently: [name, floats per layer (or in all)], in file order.
  const V = 384;
  const T = 24;
  const layout: [string, number, boolean][] = [
    ['wte', V * C, false],
    ['wpe', T * C, false],
    ['ln_1.weight', C, true],
    ['ln_1.bias', C, true],
    ['attn.c_attn.weight', 3 * C * C, true],
    ['attn.c_attn.bias', 3 * C, true],
    ['attn.c_proj.weight', C * C, true],
    ['attn.c_proj.bias', C, true],
    ['ln_2.weight', C, true],
    ['ln_2.bias', C, true],
    ['mlp.c_fc.weight', 4 * C * C, true],
    ['mlp.c_fc.bias', 4 * C, true],
    ['mlp.c_proj.weight', 4 * C * C, true],
    ['mlp.c_proj.bias', C, true],
    ['ln_f.weight', C, false],
    ['ln_f.bias', C, false],
  ];
  const named = new Map(m.namedParameters());
  let at = 1024;
  for (const [name, n, perLayer] of layout) {
    for (let l = 0; l < (perLayer ? L : 1); l++) {
      const p = perLayer
        ? named.get(`h.${l}.${name}`)!
        : named.get(name === 'wte' || name === 'wpe' ? `${name}.weight` : name)!;
      const stored = Array.from({ length: p.size }, (_, i) =>
        bytes.readFloatLE(at + 4 * (perLayer ? l * n : 0) + 4 * i),
      );
      assert.deepEqual(stored, Array.from(p.data), `${name} layer ${l}`);
    }
    at += 4 * n * (perLayer ? L : 1);
  }
  assert.equal(at, bytes.length);
  const back = readLlmcCheckpoint(path);
  assert.deepEqual(back.config, m.config);
  const ours = new Map(back.namedParameters());
  for (const [name, p] of m.namedParameters()) assert.deepEqual(ours.get(name)!.data, p.data, name);
  assert.deepEqual(logits(back), logits(m));
});

test('checkpoint bf16 (version 5): weights rounded to bf16, logits close', () => {
  const m = gpt();
  const path = join(dir, 'model-bf16.bin');
  writeLlmcCheckpoint(m, path, 'bf16');
  assert.equal(readFileSync(path).readInt32LE(4), 5);
  const back = readLlmcCheckpoint(path);
  const ours = new Map(back.namedParameters());
  for (const [name, p] of m.namedParameters()) {
    const raw = Buffer.alloc(2 * p.size);
    encodeInto('BF16', p.data, 0, p.size, raw);
    const rounded = new Float32Array(p.size);
    decodeInto('BF16', raw, p.size, rounded, 0);
    assert.deepEqual(ours.get(name)!.data, rounded, name);
  }
  assert.ok(maxDiff(logits(back), logits(m)) < 0.05);
});

test('checkpoint: a bias-free GPT-2 is written with zero biases and reads back with the same logits', () => {
  const m = gpt({ bias: false });
  const path = join(dir, 'nobias.bin');
  writeLlmcCheckpoint(m, path);
  const back = readLlmcCheckpoint(path);
  assert.equal(back.config.bias, true);
  assert.ok(maxDiff(logits(back), logits(m)) < 1e-5);
});

test('checkpoint: models llm.c cannot hold are refused with the reason', () => {
  const cases: [Partial<ModelConfig>, RegExp][] = [
    [{ tieEmbeddings: false }, /ties the output head to the token embedding/],
    [{ mlpHidden: 96 }, /MLP is 4 x nEmbd = 128 wide; this model has mlpHidden 96/],
    [{ normEps: 1e-6 }, /LayerNorm epsilon is 1e-5/],
  ];
  for (const [partial, re] of cases) {
    assert.throws(
      () => writeLlmcCheckpoint(gpt(partial), join(dir, 'x.bin')),
      (e: Error) => e instanceof UserError && re.test(e.message),
    );
  }
  const llama = createModel(
    completeModelConfig({ arch: 'llama', vocabSize: 64, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 }),
    new Rng(1),
  );
  assert.throws(
    () => writeLlmcCheckpoint(llama, join(dir, 'x.bin')),
    /llm\.c checkpoints hold GPT-2 models; this model is arch llama/,
  );
});

test('checkpoint: header errors name the file and say what was expected', () => {
  const good = join(dir, 'good.bin');
  writeLlmcCheckpoint(gpt(), good);
  const bytes = readFileSync(good);
  const put = (name: string, b: Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, b);
    return p;
  };
  const shard = join(dir, 'shard.bin');
  writeLlmcShard(shard, [1, 2, 3]);
  assert.throws(
    () => readLlmcCheckpoint(shard),
    (e: Error) =>
      e instanceof UserError &&
      e.message.startsWith(`${shard}: not an llm.c GPT-2 checkpoint (magic 20240520, expected 20240326)`),
  );
  const v = Buffer.from(bytes);
  v.writeInt32LE(4, 4);
  assert.throws(
    () => readLlmcCheckpoint(put('v4.bin', v)),
    /an llm\.c GPT-2 checkpoint version 4 is not supported \(expected 3 or 5\)/,
  );
  const short = put('short.bin', bytes.subarray(0, bytes.length - 8));
  assert.throws(
    () => readLlmcCheckpoint(short),
    /bytes, but the header \(maxT 24, V 300, Vp 384, L 2, C 32, fp32\) implies \d+; the file is truncated/,
  );
  assert.throws(() => readLlmcCheckpoint(put('tiny.bin', bytes.subarray(0, 100))), /shorter than the 1024-byte header/);
  const heads = Buffer.from(bytes);
  heads.writeInt32LE(3, 5 * 4); // NH 3 does not divide C 32
  assert.throws(() => readLlmcCheckpoint(put('heads.bin', heads)), /nEmbd 32 must be a multiple of nHead 3/);
});

/** Every token of one of our shard files. */
function ourShard(path: string): number[] {
  const fd = openSync(path, 'r');
  try {
    const h = readShardHeader(fd, path);
    const width = h.dtype === 'uint16' ? 2 : 4;
    const raw = Buffer.alloc(h.tokens * width);
    readSync(fd, raw, 0, raw.length, HEADER_BYTES);
    return Array.from({ length: h.tokens }, (_, i) =>
      width === 2 ? raw.readUInt16LE(2 * i) : raw.readUInt32LE(4 * i),
    );
  } finally {
    closeSync(fd);
  }
}

test('token shards: a prepared dataset exported to llm.c shards reads back token for token', async () => {
  const input = join(dir, 'corpus.txt');
  writeFileSync(input, CORPUS.split('\n').join('\n\n'));
  const data = join(dir, 'data');
  await prepareData({
    sources: [{ name: 'c', path: input, paragraphs: true }],
    out: data,
    tokenizer: 'char',
    valFraction: 0.2,
    shardTokens: 700,
    clean: { filters: false, dedup: false, nearDedup: false },
    warn: () => {},
  });
  const meta = readMeta(data);
  const out = join(dir, 'llmc-data');
  const summary = exportLlmcShards(data, out, { prefix: 'tiny' });
  assert.deepEqual(summary.tokens, { train: meta.splits.train.tokens, val: meta.splits.val.tokens });
  assert.equal(summary.files.length, meta.splits.train.shards.length + meta.splits.val.shards.length);
  assert.equal(summary.files[0], 'tiny_train_000000.bin');
  for (const split of ['train', 'val'] as const) {
    meta.splits[split].shards.forEach((name, i) => {
      const file = join(out, `tiny_${split}_${String(i).padStart(6, '0')}.bin`);
      const head = readFileSync(file);
      assert.deepEqual([head.readInt32LE(0), head.readInt32LE(4)], [20240520, 1]);
      assert.deepEqual(Array.from(readLlmcShard(file)), ourShard(join(data, name)), file);
    });
  }
  const cut = join(dir, 'cut.bin');
  writeFileSync(cut, readFileSync(join(out, summary.files[0]!)).subarray(0, 1030));
  assert.throws(
    () => readLlmcShard(cut),
    /header counts \d+ tokens \(\d+ bytes with the header\); the shard is truncated or corrupt/,
  );
  assert.throws(() => writeLlmcShard(join(dir, 'big.bin'), [70000]), /token 0 is 70000; llm\.c shards hold uint16 ids/);
  assert.throws(() => exportLlmcShards(join(dir, 'nowhere'), out), /meta\.json: not found/);
});

test('tokenizer file: header, then every id as a length byte and its bytes', () => {
  const tok = trainTokenizer();
  const path = join(dir, 'tok.bin');
  writeLlmcTokenizer(path, tok, tok.vocabSize + 2);
  const b = readFileSync(path);
  assert.deepEqual(
    [b.readInt32LE(0), b.readInt32LE(4), b.readInt32LE(8), b.readInt32LE(12)],
    [20240328, 2, tok.vocabSize + 2, tok.specialId('<|endoftext|>')],
  );
  let at = 1024;
  for (let id = 0; id < tok.vocabSize + 2; id++) {
    const n = b[at]!;
    const bytes = b.subarray(at + 1, at + 1 + n);
    assert.deepEqual(new Uint8Array(bytes), id < tok.vocabSize ? tok.decodeBytes([id]) : new Uint8Array(0), `id ${id}`);
    at += 1 + n;
  }
  assert.equal(at, b.length);
});
