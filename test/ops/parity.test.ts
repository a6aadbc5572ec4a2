/**
 * Native vs reference parity for every op at the autograd level (outputs and input gradients), on odd shapes
 * (1, 3, 17, 127 and sizes that are not multiples of the SIMD width), broadcasting and size-1 dims.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNativeBackend, loadNativeAddon } from '../../src/backend/native.ts';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { randn, uniform } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import * as F from '../../src/ops/index.ts';
import { assertClose, checkParity, hasNative } from '../helpers/parity.ts';

const skip = hasNative ? false : 'native addon not built';

test('the native addon implements every backend kernel', { skip }, () => {
  const loaded = loadNativeAddon();
  assert.ok('addon' in loaded);
  const { missing } = createNativeBackend(loaded.addon, referenceBackend);
  assert.deepEqual(missing, []);
});

const sizes = [1, 3, 17, 127];

test('parity: elementwise and broadcasting', { skip }, () => {
  for (const n of sizes) {
    checkParity(
      [
        [n, 5],
        [n, 5],
      ],
      (a, b) => F.add(a!, b!),
    );
    checkParity([[3, n], [n]], (a, b) => F.mul(a!, b!));
    checkParity(
      [
        [n, 1, 4],
        [1, 3, 1],
      ],
      (a, b) => F.sub(a!, b!),
    );
    checkParity([[n, 2]], (a) => F.div(a!, F.add(F.exp(a!), 1)));
    for (const f of [
      F.neg,
      F.exp,
      F.tanh,
      F.relu,
      F.silu,
      F.sigmoid,
      F.abs,
      (x: Parameters<typeof F.neg>[0]) => F.gelu(x, 'tanh'),
      (x: Parameters<typeof F.neg>[0]) => F.gelu(x, 'none'),
    ]) {
      checkParity([[n, 7]], (x) => f(x!));
    }
    checkParity([], (x) => F.log(x!), { inputs: () => [uniform([n, 3], 0.1, 3, { seed: n })] });
    checkParity([], (x) => F.sqrt(x!), { inputs: () => [uniform([n, 3], 0.1, 3, { seed: n })] });
    checkParity([], (x) => F.pow(x!, 1.5), { inputs: () => [uniform([n, 3], 0.1, 3, { seed: n })] });
    checkParity(
      [
        [n, 3],
        [n, 3],
      ],
      (a, b) => F.maximum(a!, b!),
    );
  }
});

test('parity: shape ops and reductions', { skip }, () => {
  for (const n of sizes) {
    checkParity([[n, 3, 5]], (x) => F.permute(x!, [2, 0, 1]));
    checkParity([[n, 6]], (x) => F.slice(x!, 1, 1, 5));
    checkParity(
      [
        [n, 2],
        [n, 3],
      ],
      (x, y) => F.concat([x!, y!], 1),
    );
    checkParity([[n, 17, 3]], (x) => F.sum(x!, [0, 2]));
    checkParity([[3, n, 4]], (x) => F.mean(x!, 1, true));
    checkParity([[3, n]], (x) => F.max(x!, 1));
  }
});

test('parity: matmul shapes and flags', { skip }, () => {
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 17, 5],
    [17, 3, 127],
    [127, 33, 17],
    [1, 64, 129],
  ] as const) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const as = ta ? [k, m] : [m, k];
      const bs = tb ? [n, k] : [k, n];
      checkParity([as, bs], (x, y) => F.matmul(x!, y!, { transA: ta, transB: tb }), { atol: 1e-4 });
      checkParity([[2, ...as], bs], (x, y) => F.matmul(x!, y!, { transA: ta, transB: tb }), { atol: 1e-4 });
      checkParity(
        [
          [2, 1, ...as],
          [3, ...bs],
        ],
        (x, y) => F.matmul(x!, y!, { transA: ta, transB: tb }),
        { atol: 1e-4 },
      );
    }
  }
});

test('parity: softmax family and cross-entropy', { skip }, () => {
  for (const n of sizes) {
    checkParity([[n, 9]], (x) => F.softmax(x!));
    checkParity([[2, n]], (x) => F.logSoftmax(x!));
    const targets = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? -100 : (i * 7) % 11));
    checkParity([[n, 11]], (x) => F.crossEntropy(x!, targets, { labelSmoothing: 0.1 }));
    checkParity([[n, 11]], (x) => F.crossEntropy(x!, targets, { reduction: 'none' }));
  }
});

test('parity: embedding, gatherLast, norms, rope, dropout, where', { skip }, () => {
  for (const n of sizes) {
    const ids = Array.from({ length: n }, (_, i) => (i * 5) % 13);
    checkParity([[13, n]], (w) => F.embedding(w!, ids));
    checkParity([[n, 13]], (x) => F.gatherLast(x!, ids));
    checkParity([[n, 17], [17], [17]], (x, w, b) => F.layerNorm(x!, w!, b!));
    checkParity([[3, n], [n]], (x, w) => F.rmsNorm(x!, w!));
    checkParity([[2, n, 3, 8]], (x) => F.rope(x!, F.ropeTables(n, 8)));
    checkParity([[n, 19]], (x) => F.dropout(x!, 0.25, 1234 + n));
    const mask = Uint8Array.from({ length: n * 2 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    checkParity(
      [
        [n, 2],
        [n, 2],
      ],
      (x, y) => F.where(mask, x!, y!),
    );
    checkParity([[n, 2]], (x) => F.maskedFill(x!, mask, -3));
  }
});

test('parity: fused attention', { skip }, () => {
  for (const T of [1, 3, 17, 67]) {
    checkParity(
      [
        [2, T, 4, 16],
        [2, T, 2, 16],
        [2, T, 2, 16],
      ],
      (q, k, v) => F.attention(q!, k!, v!),
      { atol: 1e-4 },
    );
    checkParity(
      [
        [1, T, 3, 5],
        [1, T, 3, 5],
        [1, T, 3, 5],
      ],
      (q, k, v) => F.attention(q!, k!, v!, { causal: false }),
      { atol: 1e-4 },
    );
    checkParity([[2, T, 3 * 48]], (qkv) => F.attentionFromQKV(qkv!, 3), { atol: 1e-4 });
    checkParity([[5, T, 3 * 3 * 16]], (qkv) => F.attentionFromQKV(qkv!, 3), { atol: 1e-4 });
  }
});

test('native attentionFromQKV (q, k, v read in place from the packed rows) equals split + attention, both backward schedules', {
  skip,
}, () => {
  const saved = process.env.LLMFORGE_ATTN_BACKWARD;
  try {
    for (const schedule of ['split', 'groups']) {
      process.env.LLMFORGE_ATTN_BACKWARD = schedule;
      for (const [B, T, H, D] of [
        [2, 67, 3, 16],
        [3, 130, 2, 64],
        [1, 5, 4, 3],
      ] as const) {
        const C = H * D;
        const run = (packed: boolean) =>
          withBackend('native', () => {
            const x = randn([B, T, 3 * C], { seed: T });
            x.requiresGrad = true;
            const y = packed
              ? F.attentionFromQKV(x, H)
              : F.reshape(
                  F.attention(...(F.split(x, C, 2).map((t) => F.reshape(t, [B, T, H, D])) as [Tensor, Tensor, Tensor])),
                  [B, T, C],
                );
            y.backward(randn(y.shape, { seed: 5 }));
            return { y: y.data, dx: x.grad!.data };
          });
        const a = run(true);
        const b = run(false);
        assertClose(`${schedule} B${B} T${T} H${H} D${D} out`, a.y, b.y, 1e-6, 1e-5);
        assertClose(`${schedule} B${B} T${T} H${H} D${D} dqkv`, a.dx, b.dx, 1e-6, 1e-5);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.LLMFORGE_ATTN_BACKWARD;
    else process.env.LLMFORGE_ATTN_BACKWARD = saved;
  }
});
