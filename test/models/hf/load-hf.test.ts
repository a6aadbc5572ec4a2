/**
 * Loading Hugging Face directories: two small GPT-2 checkpoints written by test/helpers/hf-checkpoints.ts
 * (GPT2LMHeadModel with `transformer.` prefix and tied head and GPT-2's own tokenizer; GPT2Model without prefix or
 * head and a 21-token toy vocabulary) load with their tokenizers through loadModelDir; HF -> llmforge ->
 * HF gives byte-identical tensors; F16/BF16 and sharded checkpoints load to the same model; unsupported configs and
 * missing or unexpected tensors are one clear error naming the field or tensor and the file; `llmforge generate`
 * and `llmforge export` work on these directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '../../../src/generate/model-dir.ts';
import { withSafetensors, writeSafetensors, type TensorToWrite } from '../../../src/io/safetensors.ts';
import { exportHfModel, hfTensors } from '../../../src/models/hf/export-hf.ts';
import { hfToModelConfig } from '../../../src/models/hf/hf-config.ts';
import { isHfModelDir } from '../../../src/models/hf/detect.ts';
import { loadHfModel } from '../../../src/models/hf/load-hf.ts';
import { loadModel, readModelConfig } from '../../../src/models/model-io.ts';
import { buildTinyModel } from '../../../scripts/fixtures/export-tiny-models.ts';
import { hfCheckpoints, TINY_VOCAB } from '../../helpers/hf-checkpoints.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { UserError } from '../../../src/util/user-error.ts';

const CK = hfCheckpoints();
const FAKE = join(CK, 'llmforge-test-fake_gpt2');
const TINY = join(CK, 'llmforge-test-tiny_gpt2');
const root = tempDir('hf-load');

function rawTensors(path: string): Map<string, Buffer> {
  return withSafetensors(path, (r) => new Map([...r.tensors.keys()].map((n) => [n, Buffer.from(r.readRaw(n))])));
}

test('both checkpoints load with their tokenizers', () => {
  assert.ok(isHfModelDir(FAKE) && isHfModelDir(TINY));
  const fake = loadModelDir(FAKE);
  assert.deepEqual(
    [fake.model.config.arch, fake.model.config.vocabSize, fake.model.config.nEmbd, fake.model.config.tieEmbeddings],
    ['gpt2', 50257, 2, true],
  );
  assert.equal(fake.tokenizer.vocabSize, 50257);
  assert.deepEqual(fake.tokenizer.encode('hello world'), [31373, 995]);
  const tiny = loadModelDir(TINY);
  assert.deepEqual(
    [tiny.model.config.vocabSize, tiny.model.config.blockSize, tiny.model.config.tieEmbeddings],
    [21, 1024, true],
  );
  assert.equal(tiny.tokenizer.vocabSize, 21);
  const id = (t: string) => TINY_VOCAB.indexOf(t);
  assert.deepEqual(tiny.tokenizer.encode(' cater'), [id('Ġcat'), id('er')], 'Ġcat + er from merges.txt');
  assert.deepEqual(
    tiny.tokenizer.encode(' mat'),
    [id('Ġmat')],
    '"a t" (rank 3) merges before "Ġ m" (rank 4), then "Ġm at"',
  );
  assert.deepEqual(
    tiny.tokenizer.encode('hello'),
    [id('h'), id('e'), 19, 19, id('o')],
    'bytes outside the toy vocabulary become <unk> (19)',
  );
  const { extra } = readModelConfig(FAKE);
  assert.equal((extra.huggingface as { architecture: string }).architecture, 'GPT2LMHeadModel');
});

test('HF -> llmforge -> HF gives byte-identical tensors (fp32 sources)', () => {
  for (const [src, prefix] of [
    [FAKE, ''],
    [TINY, 'transformer.'],
  ] as const) {
    const out = join(root, `rt-${prefix ? 'tiny' : 'fake'}`);
    exportHfModel(loadModel(src), out);
    const before = rawTensors(join(src, 'model.safetensors'));
    const after = rawTensors(join(out, 'model.safetensors'));
    assert.deepEqual(
      [...after.keys()].sort(),
      [...before.keys()].map((n) => prefix + n).sort(),
      'same tensors, GPT2LMHeadModel names',
    );
    for (const [name, bytes] of before) assert.ok(after.get(prefix + name)!.equals(bytes), `${name} byte-identical`);
    const meta = withSafetensors(join(out, 'model.safetensors'), (r) => r.metadata);
    assert.equal(meta.format, 'pt', 'from_pretrained requires format pt');
  }
});

test('F16, BF16 and sharded checkpoints load; F16 weights are the rounded originals', () => {
  const model = buildTinyModel('llama');
  const f32 = join(root, 'llama-f32');
  exportHfModel(model, f32);
  for (const dtype of ['F16', 'BF16'] as const) {
    const d = join(root, `llama-${dtype}`);
    exportHfModel(model, d, { dtype });
    assert.equal(
      JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).torch_dtype,
      dtype === 'F16' ? 'float16' : 'bfloat16',
    );
    const loaded = loadModel(d);
    const tol = dtype === 'F16' ? 2 ** -11 : 2 ** -8;
    const orig = new Map(model.namedParameters());
    for (const [name, p] of loaded.namedParameters()) {
      const o = orig.get(name)!;
      for (let i = 0; i < p.size; i++)
        assert.ok(Math.abs(p.data[i]! - o.data[i]!) <= Math.abs(o.data[i]!) * tol + 2 ** -24, `${dtype} ${name}[${i}]`);
    }
  }
  // Sharded: the same tensors split over two files with an index.
  const sharded = join(root, 'llama-sharded');
  mkdirSync(sharded, { recursive: true });
  copyFileSync(join(f32, 'config.json'), join(sharded, 'config.json'));
  const tensors = hfTensors(model);
  const half = tensors.length >> 1;
  const shards: [string, TensorToWrite[]][] = [
    ['model-00001-of-00002.safetensors', tensors.slice(0, half)],
    ['model-00002-of-00002.safetensors', tensors.slice(half)],
  ];
  const weightMap: Record<string, string> = {};
  for (const [file, ts] of shards) {
    writeSafetensors(join(sharded, file), ts, { format: 'pt' });
    for (const t of ts) weightMap[t.name] = file;
  }
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const a = loadModel(sharded).namedParameters();
  const b = model.namedParameters();
  assert.equal(a.length, b.length);
  a.forEach(([n, p], i) => {
    assert.deepEqual(p.data, b[i]![1].data, n);
  });
  // A shard that lacks a tensor its index lists.
  weightMap['model.norm.weight'] = 'model-00001-of-00002.safetensors';
  writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  assert.throws(
    () => loadModel(sharded),
    /model-00001-of-00002\.safetensors: tensor "model\.norm\.weight" is listed in model\.safetensors\.index\.json but not stored in this shard/,
  );
});

test('unsupported configs are one error naming the field and the file', () => {
  const base = JSON.parse(readFileSync(join(root, 'llama-f32', 'config.json'), 'utf8')) as Record<string, unknown>;
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { model_type: 'gemma', architectures: ['GemmaForCausalLM'] },
      /model_type "gemma" \(architectures \["GemmaForCausalLM"\]\) is not supported; llmforge reads gpt2, llama, mistral and qwen2/,
    ],
    [{ rope_scaling: { rope_type: 'yarn', factor: 8 } }, /rope_scaling type "yarn" is not supported/],
    [{ hidden_act: 'gelu' }, /hidden_act "gelu" is not supported/],
    [{ head_dim: 3 }, /head size headDim = 3 must be even for RoPE/],
    [
      { architectures: ['LlamaForSequenceClassification'] },
      /architecture "LlamaForSequenceClassification" is not supported for model_type llama/,
    ],
    [{ num_attention_heads: 5, head_dim: undefined }, /nEmbd 16 must be a multiple of nHead 5/],
  ];
  for (const [patch, re] of cases) {
    assert.throws(
      () => hfToModelConfig({ ...base, ...patch }, 'x/config.json'),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /^x\/config\.json: /);
        assert.match(e.message, re);
        return true;
      },
    );
  }
  const mistral = hfToModelConfig(
    { ...base, model_type: 'mistral', architectures: ['MistralForCausalLM'], sliding_window: 8 },
    'm',
  ).config;
  assert.equal(mistral.blockSize, 8, 'a Mistral sliding window caps the context');
  const qwen = hfToModelConfig({ ...base, model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'] }, 'q').config;
  assert.equal(qwen.qkvBias, true);
});

test('missing and unexpected tensors name the tensor and the file', () => {
  const d = join(root, 'broken');
  exportHfModel(buildTinyModel('gpt2'), d);
  const tensors = withSafetensors(join(d, 'model.safetensors'), (r) =>
    [...r.tensors.values()].map((t) => ({ name: t.name, shape: t.shape, data: r.read(t.name) })),
  );
  writeSafetensors(
    join(d, 'model.safetensors'),
    tensors.filter((t) => t.name !== 'transformer.h.1.mlp.c_fc.weight'),
  );
  assert.throws(
    () => loadModel(d),
    /broken: tensor "transformer\.h\.1\.mlp\.c_fc\.weight" is missing from model\.safetensors \(the gpt2 config in config\.json expects it with shape \[64, 16\]\)/,
  );
  writeSafetensors(join(d, 'model.safetensors'), [
    ...tensors,
    { name: 'transformer.h.2.ln_1.weight', shape: [16], data: new Float32Array(16) },
  ]);
  assert.throws(() => loadModel(d), /model\.safetensors: unexpected tensor "transformer\.h\.2\.ln_1\.weight"/);
  writeSafetensors(
    join(d, 'model.safetensors'),
    tensors.map((t) => (t.name === 'transformer.wpe.weight' ? { ...t, shape: [8, 32] } : t)),
  );
  assert.throws(
    () => loadModel(d),
    /model\.safetensors: tensor "transformer\.wpe\.weight" has shape \[8, 32\], expected \[16, 16\]/,
  );
  const old = join(root, 'bin-only');
  mkdirSync(old);
  copyFileSync(join(d, 'config.json'), join(old, 'config.json'));
  writeFileSync(join(old, 'pytorch_model.bin'), '');
  assert.throws(
    () => loadHfModel(old),
    /no model\.safetensors or model\.safetensors\.index\.json \(found pytorch_model\.bin: PyTorch pickle weights are not read/,
  );
});

test('llmforge generate on both checkpoints, and export --format hf', () => {
  for (const dir of [FAKE, TINY]) {
    const r = spawnSync(
      process.execPath,
      ['bin/llmforge.js', 'generate', '--model', dir, 'hello', '--max-tokens', '6', '--temperature', '0'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hello.+\n$/s, 'the prompt, then generated text');
    assert.match(r.stderr, /\[6 new tokens, stop: length/);
  }
  const out = join(root, 'cli-export');
  const r = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'export', '--model', TINY, '--format', 'hf', '--out', out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /exported gpt2 \(1 layers, width 2, vocabulary 21/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(
    [config.architectures, config.model_type, config.n_embd, config.eos_token_id],
    [['GPT2LMHeadModel'], 'gpt2', 2, 20],
  );
  for (const f of ['vocab.json', 'merges.txt', 'tokenizer_config.json'])
    assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(TINY, f))), f);
  const bad = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'export', '--model', TINY, '--format', 'onnx', '--out', out],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'error: export: --format onnx is not supported (expected hf, gguf, llmc)\n');
});
