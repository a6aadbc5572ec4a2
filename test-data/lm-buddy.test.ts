/**
 * The real lm-buddy checkpoints (written by Hugging Face transformers; the default suite uses look-alikes that
 * test/helpers/hf-checkpoints.ts writes): fake_gpt2 (GPT2LMHeadModel with `transformer.` prefix, tied head, GPT-2's
 * tokenizer) and tiny_gpt2 (GPT2Model without prefix or head, a 21-token toy vocabulary) load with their tokenizers;
 * HF -> llmforge -> HF gives byte-identical tensors; tiny_gpt2's logits match the plain-PyTorch reference in
 * fixtures/hf-export-reference.json; `llmforge generate` and `llmforge export --format hf` work on them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelDir } from '../src/generate/model-dir.ts';
import { withSafetensors } from '../src/io/safetensors.ts';
import { exportHfModel } from '../src/models/hf/export-hf.ts';
import { isHfModelDir } from '../src/models/hf/detect.ts';
import { loadModel, readModelConfig } from '../src/models/model-io.ts';
import { noGrad } from '../src/tensor/autograd.ts';
import { tempDir } from '../test/helpers/temp-dir.ts';
import { dataPath } from './data-dir.ts';

const FAKE = dataPath('checkpoints/lm-buddy-fake_gpt2');
const TINY = dataPath('checkpoints/lm-buddy-tiny_gpt2');
const root = tempDir('lm-buddy');

function rawTensors(path: string): Map<string, Buffer> {
  return withSafetensors(path, (r) => new Map([...r.tensors.keys()].map((n) => [n, Buffer.from(r.readRaw(n))])));
}

test('both lm-buddy checkpoints load with their tokenizers', () => {
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
  assert.deepEqual(tiny.tokenizer.encode(' lower'), [14, 15], 'Ġlow + er from merges.txt');
  assert.deepEqual(
    tiny.tokenizer.encode('hello'),
    [19, 3, 0, 0, 1],
    'bytes outside the toy vocabulary become <unk> (19)',
  );
  const { extra } = readModelConfig(FAKE);
  assert.equal((extra.huggingface as { architecture: string }).architecture, 'GPT2LMHeadModel');
});

test('lm-buddy: HF -> llmforge -> HF gives byte-identical tensors', () => {
  for (const [src, prefix] of [
    [FAKE, ''],
    [TINY, 'transformer.'],
  ] as const) {
    const out = join(root, `rt-${prefix ? 'tiny' : 'fake'}`);
    exportHfModel(loadModel(src), out);
    const before = rawTensors(join(src, 'model.safetensors'));
    const after = rawTensors(join(out, 'model.safetensors'));
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].map((n) => prefix + n).sort());
    for (const [name, bytes] of before) assert.ok(after.get(prefix + name)!.equals(bytes), `${name} byte-identical`);
  }
});

test('lm-buddy tiny_gpt2 (GPT2Model, no prefix, no head) matches the PyTorch reference logits', () => {
  const fixture = JSON.parse(readFileSync('fixtures/hf-export-reference.json', 'utf8')) as {
    models: Record<string, { ids: number[]; logits: number[] }>;
  };
  const ref = fixture.models['lm-buddy-tiny_gpt2']!;
  const ids = Int32Array.from(ref.ids);
  const got = noGrad(() => loadModel(TINY).forward(ids, 1, ids.length).logits.data);
  assert.equal(got.length, ref.logits.length);
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i]! - ref.logits[i]!));
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});

test('llmforge generate on both checkpoints, and export --format hf', () => {
  for (const dir of [FAKE, TINY]) {
    const r = spawnSync(
      process.execPath,
      ['bin/llmforge.js', 'generate', '--model', dir, 'hello', '--max-tokens', '6', '--temperature', '0'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hello.+\n$/s);
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
});
