/**
 * Golden test against PyTorch (llm.c's test_gpt2 idea): a tiny 2-layer GPT-2 with fixed weights, computed by
 * scripts/fixtures/gen_gpt2_golden.py in PyTorch. Our logits, loss and every parameter gradient must match the
 * fixture within 1e-4 (max abs diff, printed per tensor), on every backend available. The model is built without
 * random init (ModelFill), so every weight the comparison sees was loaded from the fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { nativeAvailable, withBackend } from '../../src/backend/index.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { GPT } from '../../src/models/gpt.ts';
import { ModelFill } from '../../src/models/model-fill.ts';

const fixture = readSafetensors(fileURLToPath(new URL('../../fixtures/gpt2-golden.safetensors', import.meta.url)));
const cfg = JSON.parse(fixture.metadata.config!) as {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  B: number;
  T: number;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function get(name: string): Float32Array {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture lacks ${name}`);
  return t.data;
}

for (const name of ['reference', 'native'] as const) {
  test(`GPT-2 logits, loss and all gradients match PyTorch (${name} backend)`, {
    skip: name === 'native' && !nativeAvailable() ? 'native addon not built' : false,
  }, () => {
    withBackend(name, () => {
      const { vocabSize, blockSize, nLayer, nHead, nEmbd } = cfg;
      const fill = new ModelFill(completeModelConfig({ arch: 'gpt2', vocabSize, blockSize, nLayer, nHead, nEmbd })); // no random init
      const named = [...fill.parameters];
      assert.equal(named.length, [...fixture.tensors.keys()].filter((k) => k.startsWith('param.')).length);
      for (const [pname, p] of named) {
        const src = get(`param.${pname}`);
        assert.equal(src.length, p.size, `param ${pname} size`);
        fill.take(pname)!.data.set(src);
      }
      const model = fill.finish((n) => new Error(`param.${n} was not loaded`));
      assert.ok(model instanceof GPT);
      const ids = Int32Array.from(get('ids'));
      const targets = Int32Array.from(get('targets'));
      const { logits, loss } = model.forward(ids, cfg.B, cfg.T, targets);
      const rows: string[] = [];
      const check = (label: string, got: ArrayLike<number>, want: ArrayLike<number>): void => {
        const d = maxAbsDiff(got, want);
        rows.push(`${label.padEnd(28)} max |diff| ${d.toExponential(2)}`);
        assert.ok(d <= 1e-4, `${label}: max abs diff ${d} > 1e-4`);
      };
      check('logits', logits.data, get('logits'));
      check('loss', [loss!.item()], get('loss'));
      loss!.backward();
      for (const [pname, p] of named) check(`grad ${pname}`, p.grad!.data, get(`grad.${pname}`));
      process.stdout.write(`${name}:\n${rows.join('\n')}\n`);
    });
  });
}
