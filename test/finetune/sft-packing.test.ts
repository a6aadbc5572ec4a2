/**
 * Packing isolation: an example's logits are the same whether it runs alone or packed into one row with other
 * examples (segment ids stop attention across examples; positions restart at 0 per segment), for the GPT-2 family
 * (learned positions) and the Llama family (RoPE, grouped-query attention). Also the greedy packer's layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';

const examples = [
  [1, 2, 3, 4, 5],
  [6, 7, 8],
  [9, 10, 11, 12],
];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const arch of ['gpt2', 'llama'] as const) {
  test(`packing isolation (${arch}): each example's logits equal its logits alone`, () => {
    const partial: Partial<ModelConfig> = {
      arch,
      vocabSize: 16,
      blockSize: 16,
      nLayer: 2,
      nHead: 4,
      nEmbd: 16,
      ...(arch === 'llama' ? { nKvHead: 2 } : {}),
    };
    const model = createModel(completeModelConfig(partial), new Rng(1));
    const ids = Int32Array.from(examples.flat());
    const T = ids.length;
    const segments = Int32Array.from(examples.flatMap((ex, s) => ex.map(() => s + 1)));
    const V = 16;
    noGrad(() => {
      const packed = model.forward(ids, 1, T, null, { segments }).logits.data;
      const unsegmented = model.forward(ids, 1, T).logits.data;
      let offset = 0;
      for (const ex of examples) {
        const alone = model.forward(Int32Array.from(ex), 1, ex.length).logits.data;
        const slice = packed.subarray(offset * V, (offset + ex.length) * V);
        assert.ok(
          maxDiff(alone, slice) < 1e-5,
          `${arch}: example at ${offset} differs packed vs alone by ${maxDiff(alone, slice)}`,
        );
        offset += ex.length;
      }
      // Without segments the later examples see the earlier ones: the check above is not vacuous.
      assert.ok(maxDiff(unsegmented.subarray(5 * V), packed.subarray(5 * V)) > 1e-3);
    });
  });
}
