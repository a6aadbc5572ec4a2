/**
 * Golden test against PyTorch for the Llama family: a tiny 2-layer model (RoPE, RMSNorm, SwiGLU, 4 query heads
 * sharing 2 key/value heads, untied head) with fixed weights, computed by scripts/fixtures/gen_llama_golden.py in
 * plain PyTorch. Our logits, loss and every parameter gradient must match the fixture within 1e-4 (max abs diff,
 * printed per tensor), on every backend available. The model is built without random init (ModelFill), so every
 * weight the comparison sees was loaded from the fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { nativeAvailable, withBackend } from '../../src/backend/index.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { checkModelConfig } from '../../src/models/config.ts';
import { Llama } from '../../src/models/llama.ts';
import { ModelFill } from '../../src/models/model-fill.ts';

const path = fileURLToPath(new URL('../../fixtures/llama-golden.safetensors', import.meta.url));
const fixture = readSafetensors(path);
const cfg = checkModelConfig(JSON.parse(fixture.metadata.config!), path);
const { B, T } = JSON.parse(fixture.metadata.batch!) as { B: number; T: number };

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
  test(`Llama logits, loss and all gradients match PyTorch (${name} backend)`, {
    skip: name === 'native' && !nativeAvailable() ? 'native addon not built' : false,
  }, () => {
    withBackend(name, () => {
      const fill = new ModelFill(cfg); // built without random init: every weight must come from the fixture
      const named = [...fill.parameters];
      assert.deepEqual(
        named.map(([n]) => `param.${n}`).sort(),
        [...fixture.tensors.keys()].filter((k) => k.startsWith('param.')).sort(),
      );
      for (const [pname, p] of named) {
        const src = get(`param.${pname}`);
        assert.equal(src.length, p.size, `param ${pname} size`);
        fill.take(pname)!.data.set(src);
      }
      const model = fill.finish((n) => new Error(`param.${n} was not loaded`));
      assert.ok(model instanceof Llama);
      const ids = Int32Array.from(get('ids'));
      const targets = Int32Array.from(get('targets'));
      const { logits, loss } = model.forward(ids, B, T, targets);
      const rows: string[] = [];
      const check = (label: string, got: ArrayLike<number>, want: ArrayLike<number>): void => {
        const d = maxAbsDiff(got, want);
        rows.push(`${label.padEnd(52)} max |diff| ${d.toExponential(2)}`);
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
