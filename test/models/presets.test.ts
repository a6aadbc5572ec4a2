/**
 * Model configs: every preset resolves to a valid config and builds a model of its architecture, overrides apply
 * and re-derive dependent widths, `--set key=value` pairs are typed, and each kind of invalid config is rejected
 * with an error naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkModelConfig, completeModelConfig, parseConfigOverrides, swigluHidden } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { GPT } from '../../src/models/gpt.ts';
import { Llama } from '../../src/models/llama.ts';
import { PRESETS, resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { UserError } from '../../src/util/user-error.ts';

test('presets resolve to complete configs with the documented shapes', () => {
  for (const name of Object.keys(PRESETS)) assert.doesNotThrow(() => resolveModelConfig(name), name);
  const tiny = resolveModelConfig('char-tiny');
  assert.deepEqual(tiny, {
    arch: 'gpt2',
    vocabSize: 65,
    blockSize: 64,
    nLayer: 4,
    nHead: 4,
    nKvHead: 4,
    nEmbd: 128,
    mlpHidden: 512,
    dropout: 0,
    bias: true,
    normEps: 1e-5,
    ropeTheta: 10000,
    tieEmbeddings: true,
  });
  const gpt2 = resolveModelConfig('gpt2-124m');
  assert.deepEqual(
    [gpt2.nLayer, gpt2.nHead, gpt2.nEmbd, gpt2.blockSize, gpt2.vocabSize, gpt2.mlpHidden],
    [12, 12, 768, 1024, 50257, 3072],
  );
  const llama = resolveModelConfig('llama-mini');
  assert.equal(llama.arch, 'llama');
  assert.deepEqual(
    [llama.nLayer, llama.nHead, llama.nKvHead, llama.nEmbd, llama.mlpHidden, llama.blockSize],
    [6, 6, 2, 384, 1024, 256],
  );
  assert.equal(llama.bias, false);
  assert.equal(llama.tieEmbeddings, false);
});

test('overrides replace preset fields; derived widths follow unless set', () => {
  const c = resolveModelConfig('llama-mini', { vocabSize: 300, nEmbd: 192 });
  assert.equal(c.vocabSize, 300);
  assert.equal(c.mlpHidden, swigluHidden(192));
  assert.equal(resolveModelConfig('gpt-mini', { nEmbd: 192, mlpHidden: 100 }).mlpHidden, 100);
  assert.equal(
    resolveModelConfig({ arch: 'gpt2', vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }).mlpHidden,
    32,
  );
});

test('createModel builds the class of config.arch', () => {
  const g = createModel(resolveModelConfig('char-tiny', { nLayer: 1 }), new Rng(0));
  assert.ok(g instanceof GPT);
  const l = createModel(resolveModelConfig('llama-mini', { nLayer: 1, vocabSize: 50 }), new Rng(0));
  assert.ok(l instanceof Llama);
  assert.ok(l.namedParameters().some(([n]) => n === 'model.layers.0.self_attn.k_proj.weight'));
  assert.equal(l.namedParameters().find(([n]) => n === 'model.layers.0.self_attn.k_proj.weight')![1].shape[0], 128);
});

test('--set pairs are parsed to typed fields; mistakes name the pair', () => {
  assert.deepEqual(parseConfigOverrides(['nLayer=2', 'dropout=0.1', 'bias=false', 'arch=llama', 'ropeTheta=5e5']), {
    nLayer: 2,
    dropout: 0.1,
    bias: false,
    arch: 'llama',
    ropeTheta: 500000,
  });
  assert.throws(() => parseConfigOverrides(['nLayers=2']), /--set nLayers=2: unknown model field "nLayers"/);
  assert.throws(() => parseConfigOverrides(['nLayer']), /--set nLayer: expected key=value/);
  assert.throws(() => parseConfigOverrides(['bias=yes']), /bias expects true or false, received "yes"/);
  assert.throws(() => parseConfigOverrides(['nEmbd=abc']), /nEmbd expects a number, received "abc"/);
});

test('invalid configs are rejected with the field and the values', () => {
  const base = resolveModelConfig('char-tiny');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ nEmbd: 130 }, /nEmbd 130 must be a multiple of nHead 4/],
    [{ nLayer: 0 }, /field "nLayer" must be a positive integer, received 0/],
    [{ blockSize: 6.5 }, /field "blockSize" must be a positive integer, received 6.5/],
    [{ arch: 'bert' }, /field "arch" must be gpt2 or llama, received "bert"/],
    [{ nKvHead: 2 }, /arch gpt2 uses multi-head attention: nKvHead must equal nHead 4, received 2/],
    [{ arch: 'llama', nKvHead: 3 }, /nHead 4 must be a multiple of nKvHead 3/],
    [{ arch: 'llama', nEmbd: 12 }, /head size nEmbd \/ nHead = 3 must be even for RoPE/],
    [{ dropout: 1 }, /field "dropout" must be in \[0, 1\), received 1/],
    [{ bias: 'yes' }, /field "bias" must be true or false, received "yes"/],
    [{ layerNormEps: 1e-5 }, /unknown field "layerNormEps"/],
  ];
  for (const [patch, re] of cases) {
    assert.throws(
      () => checkModelConfig({ ...base, ...patch }, 'test.json'),
      (e: Error) => {
        assert.match(e.message, /^test\.json: /);
        assert.match(e.message, re);
        assert.ok(e instanceof UserError);
        return true;
      },
    );
  }
  assert.throws(
    () => resolveModelConfig('gpt-huge'),
    /unknown model preset "gpt-huge" \(presets: char-tiny, toy, gpt-mini, gpt2-124m, llama-mini\)/,
  );
  assert.throws(
    () => completeModelConfig({ arch: 'gpt2', vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2 }),
    /field "nEmbd" is missing/,
  );
  assert.throws(
    () => resolveModelConfig('llama-mini', { nEmbd: 388 }),
    /preset llama-mini with overrides \{"nEmbd":388\}: nEmbd 388 must be a multiple of nHead 6/,
  );
});
