/**
 * StorageArena: storage is recycled between runs (zeroed when asked, poisoned with NaN otherwise), a backward pass
 * reuses its dead gradients at once, a parameter's gradient survives the runs that follow for as long as it is that
 * parameter's gradient, float64 mode bypasses it,
 * and training GPT and Llama models (dropout, gradient accumulation, clipping) inside a poisoned arena gives
 * bit-identical losses and weights to training without one: no kernel reads storage it did not write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withFloat64 } from '../../src/backend/index.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import type { ModelConfig } from '../../src/models/model.ts';
import { createModel } from '../../src/models/create.ts';
import * as F from '../../src/ops/index.ts';
import { AdamW } from '../../src/optim/adamw.ts';
import { gradNorm } from '../../src/optim/param-groups.ts';
import { StorageArena } from '../../src/tensor/arena.ts';
import { randn } from '../../src/tensor/creation.ts';
import { Rng } from '../../src/tensor/random.ts';
import { allocStorage, allocUninit } from '../../src/tensor/tensor.ts';

test('arena: buffers are recycled by the next run, zeroed or poisoned', () => {
  const arena = new StorageArena({ poison: true });
  const first = arena.run(() => {
    const a = allocStorage(16);
    const b = allocUninit(16);
    a.fill(3);
    b.fill(4);
    return [a, b];
  });
  assert.equal(arena.stats.fresh, 2);
  const second = arena.run(() => [allocStorage(16), allocUninit(16), allocUninit(8)]);
  assert.equal(arena.stats.reused, 2);
  assert.equal(arena.stats.fresh, 3);
  assert.ok(
    second.slice(0, 2).every((x) => first.includes(x)),
    'same-size buffers come back',
  );
  assert.ok(
    second[0]!.every((v) => v === 0),
    'allocStorage is zeroed',
  );
  assert.ok(
    second[1]!.every((v) => Number.isNaN(v)),
    'allocUninit is poisoned',
  );
  assert.equal(arena.size, 3);
  assert.ok(!(allocStorage(16) as Float32Array).some(Number.isNaN), 'outside a run, plain allocation');
});

test('arena: runs do not nest; float64 mode never uses it', () => {
  const arena = new StorageArena();
  assert.throws(() => arena.run(() => arena.run(() => 0)), /cannot nest/);
  arena.run(() => {
    const d = withFloat64(() => allocStorage(4));
    assert.ok(d instanceof Float64Array);
  });
  assert.equal(arena.stats.fresh, 0);
});

test('arena: a parameter gradient accumulates across runs and is recycled once dropped', () => {
  const w = randn([4, 3], { seed: 1, requiresGrad: true });
  const x = randn([5, 4], { seed: 2 });
  const arena = new StorageArena({ poison: true });
  const once = (): void => arena.run(() => F.sum(F.matmul(x, w)).backward());
  once();
  const g1 = w.grad!.toFlatArray();
  once();
  once();
  assert.deepEqual(
    w.grad!.toFlatArray().map((v) => +v.toFixed(4)),
    g1.map((v) => +(3 * v).toFixed(4)),
  );
  for (let i = 0; i < 3; i++) {
    w.zeroGrad();
    const fresh = arena.stats.fresh;
    arena.run(() => F.sum(F.matmul(x, w)).backward());
    assert.deepEqual(w.grad!.toFlatArray(), g1);
    if (i > 0) assert.equal(arena.stats.fresh, fresh, 'steady state: the dropped gradient storage is reused');
  }
});

test('arena: a backward pass reuses its own dead gradients', () => {
  const x = randn([1000], { seed: 3, requiresGrad: true });
  const arena = new StorageArena({ poison: true });
  const depth = 20;
  const run = (): number => {
    let y = x;
    for (let i = 0; i < depth; i++) y = F.tanh(y);
    F.sum(y).backward();
    return x.grad!.data[0]!;
  };
  const expected = run();
  x.zeroGrad();
  assert.equal(arena.run(run), expected);
  // depth outputs stay alive for the backward; the depth gradients of the chain reuse two or three buffers.
  assert.ok(arena.stats.fresh < depth + 6, `${arena.stats.fresh} fresh buffers for a chain of ${depth}`);
});

/** Losses and final weights of a few AdamW steps with gradient accumulation, optionally inside an arena. */
function train(cfg: Partial<ModelConfig>, arena: StorageArena | null): { losses: number[]; weights: number[][] } {
  const rng = new Rng(7);
  const model = createModel(completeModelConfig(cfg), rng);
  const params = model.parameters();
  const opt = new AdamW(params, { lr: 1e-2 });
  const B = 2;
  const T = 8;
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    for (let micro = 0; micro < 2; micro++) {
      const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize!));
      const targets = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize!));
      const run = (): number => {
        const { loss } = model.forward(ids, B, T, targets, { dropoutSeed: step * 2 + micro });
        loss!.backward();
        return loss!.item();
      };
      losses.push(arena ? arena.run(run) : run());
    }
    opt.step(1 / (2 * Math.max(1, gradNorm(params))));
  }
  return { losses, weights: params.map((p) => p.toFlatArray()) };
}

for (const arch of ['gpt2', 'llama'] as const) {
  test(`arena: ${arch} training in a poisoned arena matches training without one exactly`, () => {
    const cfg: Partial<ModelConfig> = {
      arch,
      vocabSize: 17,
      blockSize: 8,
      nLayer: 2,
      nHead: 2,
      nEmbd: 16,
      dropout: 0.1,
    };
    const plain = train(cfg, null);
    const arena = new StorageArena({ poison: true });
    const pooled = train(cfg, arena);
    assert.ok(plain.losses.every(Number.isFinite));
    assert.deepEqual(pooled.losses, plain.losses);
    assert.deepEqual(pooled.weights, plain.weights);
    assert.ok(arena.stats.reused > arena.stats.fresh, 'steady state reuses storage');
  });
}
