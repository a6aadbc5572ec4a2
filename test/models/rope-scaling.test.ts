/**
 * RoPE frequencies and the configs that ask for them: ropeInverseFrequencies against values worked out by hand
 * (plain, linear, and llama3 with one frequency in each band), the ModelConfig checks of headDim and ropeScaling
 * (one error each), `--set ropeScaling=<json>`, the parameter shapes and counts of a Llama whose head size is not
 * C / H, and the Hugging Face rope settings: llama3 / linear / default read, transformers 5's rope_parameters read,
 * and yarn, dynamic, longrope, unknown keys, per-layer-type settings and partial_rotary_factor refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkModelConfig, completeModelConfig, parseConfigOverrides } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { countParameters } from '../../src/models/flops.ts';
import { hfToModelConfig, modelConfigToHf } from '../../src/models/hf/hf-config.ts';
import { ropeInverseFrequencies } from '../../src/models/rope-scaling.ts';
import { Rng } from '../../src/tensor/random.ts';
import { UserError } from '../../src/util/user-error.ts';

function close(got: ArrayLike<number>, want: readonly number[], rel = 1e-12): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i]! - want[i]!) <= rel * Math.abs(want[i]!), `[${i}] ${got[i]} vs ${want[i]}`);
}

test('ropeInverseFrequencies: plain, linear and llama3 (one frequency per band) against hand-computed values', () => {
  // D = 8, theta 10000: 10000^(-2i/8) = 1, 0.1, 0.01, 0.001; wavelengths 2*pi / f = 6.28, 62.8, 628, 6283.
  close(ropeInverseFrequencies(8, 10000), [1, 0.1, 0.01, 0.001]);
  close(ropeInverseFrequencies(8, 10000, { type: 'linear', factor: 4 }), [0.25, 0.025, 0.0025, 0.00025]);
  // llama3, original 1024, low 1, high 4, factor 8: wavelengths below 1024 / 4 = 256 are kept (6.28, 62.8), above
  // 1024 / 1 are divided by 8 (6283), 628 is blended: s = (1024 / 628.3 - 1) / (4 - 1) = 0.2099155,
  // f = (1 - s) * 0.01 / 8 + s * 0.01 = 0.00308676097.
  const got = ropeInverseFrequencies(8, 10000, {
    type: 'llama3',
    factor: 8,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositions: 1024,
  });
  close(got, [1, 0.1, 0.00308676097, 0.000125], 1e-9);
  assert.throws(() => ropeInverseFrequencies(7, 10000), /head size D=7 must be a positive even integer/);
});

const LLAMA = { arch: 'llama', vocabSize: 32, blockSize: 16, nLayer: 1, nHead: 4, nKvHead: 2, nEmbd: 24 } as const;

test('ModelConfig: headDim and ropeScaling are checked, one clear error each', () => {
  const ok = completeModelConfig({ ...LLAMA, headDim: 10, ropeScaling: { type: 'linear', factor: 2 } });
  assert.equal(ok.headDim, 10);
  assert.deepEqual(ok.ropeScaling, { type: 'linear', factor: 2 });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ headDim: 9 }, /head size headDim = 9 must be even for RoPE/],
    [{ headDim: 0 }, /field "headDim" must be a positive integer, received 0/],
    [
      { ropeScaling: { type: 'yarn', factor: 4 } },
      /ropeScaling\.type "yarn" is not supported \(expected "linear" or "llama3"\)/,
    ],
    [{ ropeScaling: { type: 'dynamic', factor: 2 } }, /ropeScaling\.type "dynamic" is not supported/],
    [{ ropeScaling: { type: 'linear' } }, /ropeScaling\.factor must be a positive number, received undefined/],
    [
      { ropeScaling: { type: 'linear', factor: 2, lowFreqFactor: 1 } },
      /ropeScaling: unknown field "lowFreqFactor" for type "linear"/,
    ],
    [
      { ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 4, highFreqFactor: 4, originalMaxPositions: 8 } },
      /highFreqFactor 4 must be greater than lowFreqFactor 4/,
    ],
    [
      { ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8.5 } },
      /originalMaxPositions must be a positive integer, received 8.5/,
    ],
    [{ ropeScaling: 'linear' }, /field "ropeScaling" must be an object/],
  ];
  for (const [extra, re] of bad)
    assert.throws(
      () => completeModelConfig({ ...LLAMA, ...extra } as never, 'cfg.json'),
      (e: Error) => re.test(e.message) && e.message.startsWith('cfg.json: ') && e instanceof UserError,
      JSON.stringify(extra),
    );
  const gpt = { arch: 'gpt2', vocabSize: 32, blockSize: 16, nLayer: 1, nHead: 4, nEmbd: 24 } as const;
  assert.throws(() => completeModelConfig({ ...gpt, headDim: 8 }), /field "headDim" applies to arch llama only/);
  assert.throws(
    () => completeModelConfig({ ...gpt, ropeScaling: { type: 'linear', factor: 2 } }),
    /field "ropeScaling" applies to arch llama only/,
  );
  assert.throws(
    () => completeModelConfig({ ...LLAMA, nEmbd: 30 }),
    /nEmbd 30 must be a multiple of nHead 4 .*or give headDim/,
  );
  assert.equal(
    completeModelConfig({ ...LLAMA, nEmbd: 30, headDim: 8 }).nEmbd,
    30,
    'with headDim, C need not divide by H',
  );
  const input = { ...ok, ropeScaling: { type: 'linear' as const, factor: 2 } };
  const checked = checkModelConfig(input);
  assert.notEqual(checked.ropeScaling, input.ropeScaling, "the checked config does not share the caller's object");
});

test('--set ropeScaling takes JSON; a malformed value is one error', () => {
  assert.deepEqual(parseConfigOverrides(['ropeScaling={"type":"linear","factor":2}', 'headDim=16']), {
    ropeScaling: { type: 'linear', factor: 2 },
    headDim: 16,
  });
  assert.throws(
    () => parseConfigOverrides(['ropeScaling=linear']),
    /--set ropeScaling=linear: ropeScaling expects a JSON object/,
  );
});

test('a Llama with headDim != C / H: q/k/v/o shapes and the parameter count', () => {
  const cfg = completeModelConfig({ ...LLAMA, headDim: 10, mlpHidden: 40 });
  const model = createModel(cfg, new Rng(0));
  const shapes = Object.fromEntries(model.namedParameters().map(([n, p]) => [n, p.shape]));
  assert.deepEqual(shapes['model.layers.0.self_attn.q_proj.weight'], [40, 24]);
  assert.deepEqual(shapes['model.layers.0.self_attn.k_proj.weight'], [20, 24]);
  assert.deepEqual(shapes['model.layers.0.self_attn.v_proj.weight'], [20, 24]);
  assert.deepEqual(shapes['model.layers.0.self_attn.o_proj.weight'], [24, 40]);
  assert.equal(countParameters(cfg).total, model.numParameters());
  assert.equal(
    countParameters({ ...cfg, qkvBias: true }).total,
    createModel({ ...cfg, qkvBias: true }, new Rng(0)).numParameters(),
  );
  const cache = model.createCache(1, 4);
  assert.equal((cache as unknown as { headDim: number }).headDim, 10);
});

const HF = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 32,
  hidden_size: 24,
  intermediate_size: 40,
  num_hidden_layers: 1,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
};

test('Hugging Face rope settings: llama3, linear ("type"), default, and transformers 5 rope_parameters are read', () => {
  const llama3 = {
    rope_type: 'llama3',
    factor: 32.0,
    low_freq_factor: 1.0,
    high_freq_factor: 4.0,
    original_max_position_embeddings: 8,
  };
  const a = hfToModelConfig({ ...HF, rope_theta: 500000, rope_scaling: llama3, head_dim: 10 }, 'c.json').config;
  assert.deepEqual(
    [a.ropeTheta, a.headDim, a.ropeScaling],
    [500000, 10, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8 }],
  );
  const back = modelConfigToHf(a);
  assert.deepEqual([back.rope_theta, back.rope_scaling, back.head_dim], [500000, llama3, 10]);
  const b = hfToModelConfig({ ...HF, rope_scaling: { type: 'linear', factor: 2.0 }, head_dim: 6 }, 'c.json').config;
  assert.deepEqual(
    [b.ropeTheta, b.headDim, b.ropeScaling],
    [10000, undefined, { type: 'linear', factor: 2 }],
    'head_dim = hidden / heads leaves headDim out',
  );
  const c = hfToModelConfig({ ...HF, rope_scaling: { rope_type: 'default' } }, 'c.json').config;
  assert.equal(c.ropeScaling, undefined);
  assert.equal(modelConfigToHf(c).rope_scaling, null);
  const v5 = hfToModelConfig(
    { ...HF, rope_parameters: { rope_type: 'linear', factor: 4.0, rope_theta: 1000.0 } },
    'c.json',
  ).config;
  assert.deepEqual([v5.ropeTheta, v5.ropeScaling], [1000, { type: 'linear', factor: 4 }]);
});

test('Hugging Face rope settings llmforge does not implement are one error naming the type or key', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [
      { rope_scaling: { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 32 } },
      /rope_scaling type "yarn" is not supported \(llmforge implements plain RoPE and the "linear" and "llama3" scalings\)/,
    ],
    [{ rope_scaling: { type: 'dynamic', factor: 2.0 } }, /rope_scaling type "dynamic" is not supported/],
    [
      { rope_scaling: { rope_type: 'longrope', short_factor: [1], long_factor: [2] } },
      /rope_scaling type "longrope" is not supported/,
    ],
    [
      { rope_scaling: { rope_type: 'linear', factor: 2.0, attention_factor: 0.5 } },
      /rope_scaling: key "attention_factor" is not supported for type "linear"/,
    ],
    [
      { rope_scaling: { type: 'linear', rope_type: 'llama3', factor: 2.0 } },
      /type "linear" and rope_type "llama3"; they must agree/,
    ],
    [
      { rope_scaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0 } },
      /rope_scaling\.original_max_position_embeddings must be a positive number, received undefined/,
    ],
    [
      { rope_parameters: { full_attention: { rope_type: 'default' }, sliding_attention: { rope_type: 'default' } } },
      /holds settings per layer type/,
    ],
    [{ partial_rotary_factor: 0.5 }, /partial_rotary_factor 0.5 is not supported/],
    [{ head_dim: 7 }, /head size headDim = 7 must be even for RoPE/],
  ];
  for (const [extra, re] of bad) {
    assert.throws(
      () => hfToModelConfig({ ...HF, ...extra }, 'dir/config.json'),
      (e: Error) => re.test(e.message) && e.message.startsWith('dir/config.json: ') && e instanceof UserError,
      JSON.stringify(extra),
    );
  }
});
