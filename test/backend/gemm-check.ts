/**
 * GEMM parity table against a naive float64 triple loop, shared by test/backend/gemm.test.ts. Run as a script
 * (`node --import tsx test/backend/gemm-check.ts`) it loads the addon, runs every case and prints one JSON line
 * `{"isa":..., "threads":..., "cases":..., "failures":[...]}` for gemm and gemmBf16 (checked against the reference on
 * bf16-rounded inputs where the CPU has AVX512_BF16); the test spawns it under each LLMFORGE_ISA and
 * LLMFORGE_THREADS setting so every dispatch path (scalar, AVX2, AVX-512, one and two threads) is checked.
 */
import { loadNativeAddon, type NativeAddon } from '../../src/backend/native.ts';

export interface GemmCase {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** 0 broadcasts one A (or B) over the batch. */
  broadcastA?: boolean;
  broadcastB?: boolean;
  beta: 0 | 1;
  /** Start C (and A, B) this many floats into a larger buffer, to exercise unaligned data. */
  offset?: number;
}

/** Deterministic pseudo-random values in [-1, 1) (xorshift), so failures reproduce. */
function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** x rounded to the nearest bfloat16 (round half to even), as the bf16 kernel's input conversion does. */
export function roundBf16(x: Float32Array): Float32Array {
  const u = new Uint32Array(x.slice().buffer);
  for (let i = 0; i < u.length; i++) u[i] = ((u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) & 0xffff0000) >>> 0;
  return new Float32Array(u.buffer);
}

/** C[b] = op(A[b]) @ op(B[b]) + beta * C[b] in float64, straight from the Backend.gemm contract. */
export function referenceGemm(c: GemmCase, A: Float32Array, B: Float32Array, C0: Float32Array): Float64Array {
  const { batch, M, N, K } = c;
  const sA = c.broadcastA ? 0 : M * K,
    sB = c.broadcastB ? 0 : K * N;
  const out = new Float64Array(batch * M * N);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let p = 0; p < K; p++) {
          const a = c.transA ? A[b * sA + p * M + i]! : A[b * sA + i * K + p]!;
          const bv = c.transB ? B[b * sB + j * K + p]! : B[b * sB + p * N + j]!;
          acc += a * bv;
        }
        const o = b * M * N + i * N + j;
        out[o] = acc + (c.beta === 1 ? C0[o]! : 0);
      }
    }
  }
  return out;
}

/** Runs one case on the addon; returns a failure message, or null when every element is within tolerance. */
export function checkCase(
  addon: NativeAddon,
  c: GemmCase,
  seed: number,
  bf16: 'no' | 'rounded' | 'fallback' = 'no',
): string | null {
  const { batch, M, N, K } = c;
  const sA = c.broadcastA ? 0 : M * K,
    sB = c.broadcastB ? 0 : K * N;
  const A = fill(c.broadcastA ? M * K : batch * M * K, seed);
  const B = fill(c.broadcastB ? K * N : batch * K * N, seed + 1);
  const C0 = fill(batch * M * N, seed + 2);
  // beta = 0 must overwrite whatever is there, NaN included.
  const off = c.offset ?? 0;
  const view = (x: Float32Array) => {
    const v = new Float32Array(x.length + off).subarray(off);
    v.set(x);
    return v;
  };
  const C = view(c.beta === 0 ? new Float32Array(batch * M * N).fill(Number.NaN) : C0);
  const gemm = bf16 === 'no' ? addon.gemm! : addon.gemmBf16!;
  gemm(view(A), view(B), C, batch, M, N, K, c.transA, c.transB, sA, sB, M * N, c.beta);
  // The bf16 kernel is exact on bf16-rounded inputs up to fp32 accumulation, so it gets the fp32 tolerance too.
  // Products of M <= 8 rows are memory-bound and run in fp32 (Backend.gemmBf16).
  const rounded = bf16 === 'rounded' && M > 8;
  const ref = rounded ? referenceGemm(c, roundBf16(A), roundBf16(B), C0) : referenceGemm(c, A, B, C0);
  const tol = 1e-5 * Math.sqrt(K + 1);
  let worst = 0,
    at = -1;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(C[i]! - ref[i]!) / (1 + Math.abs(ref[i]!));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    } // NaN counts as the worst
  }
  if (worst <= tol) return null;
  return `${JSON.stringify(c)}: element ${at} got ${C[at]} want ${ref[at]} (rel err ${worst.toExponential(2)} > ${tol.toExponential(2)})`;
}

/** The case table: all trans combos over odd sizes, plus batches with broadcast operands and accumulation. */
export function gemmCases(): GemmCase[] {
  const cases: GemmCase[] = [];
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 3, 5],
    [3, 1, 5],
    [17, 3, 5],
    [3, 17, 1],
    [1, 300, 129],
    [129, 1, 300],
    [1, 1, 300],
    [17, 17, 17],
    [15, 33, 31],
    [127, 129, 17],
    [129, 127, 300],
    [300, 129, 127],
    [14, 32, 256],
    [28, 64, 513],
    [2, 300, 3],
    [300, 2, 129],
    [4, 70, 45],
    [5, 129, 64],
    [4, 1, 77],
    [3, 600, 20],
    [8, 100, 33],
    [7, 45, 300],
    [9, 40, 50],
  ];
  for (const [M, N, K] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        cases.push({ batch: 1, M, N, K, transA, transB, beta: 0 });
      }
    }
  }
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      cases.push({ batch: 3, M: 17, N: 33, K: 129, transA, transB, beta: 1 });
      cases.push({ batch: 4, M: 31, N: 47, K: 19, transA, transB, broadcastA: true, beta: 0 });
      cases.push({ batch: 4, M: 31, N: 47, K: 19, transA, transB, broadcastB: true, beta: 1 });
      cases.push({ batch: 5, M: 1, N: 65, K: 33, transA, transB, broadcastB: true, beta: 0 });
      cases.push({ batch: 5, M: 65, N: 1, K: 33, transA, transB, broadcastA: true, beta: 1 });
      cases.push({ batch: 2, M: 150, N: 200, K: 270, transA, transB, beta: 1 });
    }
  }
  // Unaligned C with N a multiple of 16 (the kernel shifts its column panels onto C's cache lines).
  for (const offset of [1, 5, 15]) {
    cases.push({ batch: 1, M: 45, N: 96, K: 40, transA: false, transB: false, beta: 1, offset });
    cases.push({ batch: 2, M: 30, N: 64, K: 33, transA: true, transB: true, beta: 0, offset });
    cases.push({ batch: 1, M: 100, N: 256, K: 270, transA: false, transB: true, beta: 1, offset });
  }
  // Big enough to take several K slices, M and N blocks and every thread.
  cases.push({ batch: 1, M: 600, N: 400, K: 300, transA: false, transB: false, beta: 1 });
  cases.push({ batch: 1, M: 130, N: 1100, K: 270, transA: true, transB: true, beta: 0 });
  // Over the AVX-512 shared-B threshold (8e8 flops; smaller products run as independent tiles).
  cases.push({ batch: 1, M: 1000, N: 704, K: 600, transA: true, transB: false, beta: 1, offset: 4 });
  cases.push({ batch: 1, M: 1, N: 3000, K: 1000, transA: false, transB: false, beta: 1 });
  cases.push({ batch: 1, M: 1, N: 3000, K: 1000, transA: false, transB: true, beta: 0 });
  // The decode-time linear layer: one row times a PyTorch-layout weight (transB) accumulated onto the bias
  // (beta 1), with N and K off every vector width and unaligned buffers, split over threads.
  for (const offset of [0, 3])
    cases.push({ batch: 1, M: 1, N: 1027, K: 771, transA: false, transB: true, beta: 1, offset });
  return cases;
}

export function runAll(addon: NativeAddon): { cases: number; failures: string[] } {
  const cases = gemmCases();
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const f = checkCase(addon, c, 17 + 5 * i);
    if (f !== null) failures.push(f);
  });
  return { cases: cases.length, failures };
}

/** The same table through gemmBf16 (skipping the M == 1 / N == 1 shapes' duplicates is not needed: all run). */
export function runAllBf16(addon: NativeAddon): { cases: number; failures: string[] } {
  const info = addon.cpuInfo();
  const mode = info.isa === 'avx512' && info.avx512bf16 ? 'rounded' : 'fallback';
  const cases = gemmCases();
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const f = checkCase(addon, c, 17 + 5 * i, mode);
    if (f !== null) failures.push(`bf16 ${f}`);
  });
  return { cases: cases.length, failures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const loaded = loadNativeAddon();
  if ('error' in loaded) {
    console.log(JSON.stringify({ error: loaded.error }));
    process.exit(1);
  }
  const { addon } = loaded;
  const fp32 = runAll(addon);
  const bf16 = runAllBf16(addon);
  console.log(
    JSON.stringify({
      isa: addon.cpuInfo().isa,
      threads: addon.numThreads(),
      cases: fp32.cases + bf16.cases,
      failures: [...fp32.failures, ...bf16.failures],
    }),
  );
}
