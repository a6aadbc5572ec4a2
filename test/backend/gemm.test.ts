/**
 * Native gemm against a naive float64 triple loop (test/backend/gemm-check.ts): all four transpose combos, odd
 * sizes (1, 3, 17, 127, 129, 300), batches with broadcast operands, beta = 1 accumulation, unaligned buffers and
 * the matrix-vector shapes. The in-process run covers the default dispatch; child processes rerun the table
 * under LLMFORGE_ISA=scalar|avx2|avx512 and LLMFORGE_THREADS=1|2 so every kernel path is checked on one machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNativeAddon } from '../../src/backend/native.ts';
import { checkCase, runAll } from './gemm-check.ts';

const loaded = loadNativeAddon();
const skip = 'error' in loaded ? `native addon not built (${loaded.error})` : false;
const checkScript = fileURLToPath(new URL('./gemm-check.ts', import.meta.url));

test('gemm matches the float64 reference (default dispatch)', { skip }, () => {
  if ('error' in loaded) return;
  const { cases, failures } = runAll(loaded.addon);
  assert.ok(cases > 50);
  assert.deepEqual(failures, []);
});

test('gemm check detects a wrong result', { skip }, () => {
  if ('error' in loaded) return;
  // A wrapper that corrupts one element must be reported: the tolerance is not vacuous.
  const real = loaded.addon;
  const broken = {
    ...real,
    gemm: (...args: Parameters<NonNullable<typeof real.gemm>>) => {
      real.gemm!(...args);
      const C = args[2];
      C[C.length - 1] = C[C.length - 1]! + 1e-3;
    },
  };
  const msg = checkCase(broken, { batch: 1, M: 17, N: 3, K: 5, transA: false, transB: true, beta: 0 }, 1);
  assert.ok(msg?.includes('rel err'), String(msg));
});

test('gemm rejects bad arguments with a clear message', { skip }, () => {
  if ('error' in loaded) return;
  const gemm = loaded.addon.gemm!;
  const a = new Float32Array(6),
    b = new Float32Array(6),
    c = new Float32Array(3);
  assert.throws(
    () => gemm(a, b, c, 1, 2, 2, 3, false, false, 6, 6, 4, 0),
    /gemm: argument 2 has 3 elements, needs at least 4/,
  );
  assert.throws(
    () => gemm(new Float64Array(6), b, c, 1, 1, 1, 3, false, false, 0, 0, 0, 0),
    /argument 0 must be a Float32Array/,
  );
});

test('gemmBf16 without AMX (LLMFORGE_AMX=0: the AVX512_BF16 kernel) matches the reference on rounded inputs', {
  skip,
}, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', checkScript], {
    env: { ...process.env, LLMFORGE_AMX: '0' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { cases: number; failures: string[] };
  assert.ok(out.cases > 100);
  assert.deepEqual(out.failures, []);
});

for (const isa of ['scalar', 'avx2', 'avx512']) {
  for (const threads of ['1', '2']) {
    test(`gemm parity with LLMFORGE_ISA=${isa} LLMFORGE_THREADS=${threads}`, { skip }, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', checkScript], {
        env: { ...process.env, LLMFORGE_ISA: isa, LLMFORGE_THREADS: threads },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        isa: string;
        threads: number;
        cases: number;
        failures: string[];
      };
      // The CPU may lack the requested ISA; dispatch then falls back to a lower one, never a higher one.
      const order = ['scalar', 'avx2', 'avx512'];
      assert.ok(order.indexOf(out.isa) <= order.indexOf(isa), `dispatched to ${out.isa} above the cap ${isa}`);
      assert.equal(out.threads, Number(threads));
      assert.ok(out.cases > 50);
      assert.deepEqual(out.failures, []);
    });
  }
}
