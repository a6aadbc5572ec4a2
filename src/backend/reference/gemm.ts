/**
 * Reference batched GEMM: C[b] = op(A[b]) @ op(B[b]) + beta * C[b], row-major, with the transposes and batch
 * strides of Backend.gemm (stride 0 broadcasts one matrix over the batch). Each output row is accumulated in a
 * float64 scratch row (loop order i, p, j, so the inner loop runs along a row of B when it is not transposed)
 * and rounded once when stored. beta = 0 overwrites C without reading it, so garbage or NaN in C is ignored.
 * `gemmBf16` is the same product after rounding every input element to bfloat16 (the mixed-precision matmul),
 * except for products of at most 8 rows, which stay exact.
 */
import type { Backend } from '../backend.ts';

export const gemm: Backend['gemm'] = (A, B, C, batch, M, N, K, transA, transB, strideA, strideB, strideC, beta) => {
  // op(A)[i, p] = A[i * aRow + p * aCol]: A stored (M, K), or (K, M) when transA.
  const aRow = transA ? 1 : K;
  const aCol = transA ? M : 1;
  // op(B)[p, j] = B[p * bRow + j * bCol]: B stored (K, N), or (N, K) when transB.
  const bRow = transB ? 1 : N;
  const bCol = transB ? K : 1;
  const acc = new Float64Array(N); // (N) one output row
  for (let b = 0; b < batch; b++) {
    const a0 = b * strideA;
    const b0 = b * strideB;
    const c0 = b * strideC;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let p = 0; p < K; p++) {
        const aip = A[a0 + i * aRow + p * aCol];
        const bp = b0 + p * bRow;
        for (let j = 0; j < N; j++) acc[j] += aip * B[bp + j * bCol];
      }
      const ci = c0 + i * N; // C[b] is (M, N)
      for (let j = 0; j < N; j++) {
        C[ci + j] = beta === 0 ? acc[j] : acc[j] + beta * C[ci + j];
      }
    }
  }
};

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to bfloat16 (the top 16 bits of its float32, round to nearest even; NaN stays NaN). */
export function roundBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000) {
    u32[0] = (bits & 0x007fffff) !== 0 ? (bits | 0x00400000) & 0xffff0000 : bits & 0xffff0000;
  } else {
    u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
  return f32[0]!;
}

/** The inputs' storage rounded to bfloat16 element by element (a copy; the caller's arrays are not touched). */
function toBf16(x: Float32Array | Float64Array): Float32Array | Float64Array {
  const out = x.slice();
  for (let i = 0; i < out.length; i++) out[i] = roundBf16(out[i]!);
  return out;
}

/** Products of at most this many rows run in full precision (see Backend.gemmBf16). */
export const BF16_FP32_MAX_ROWS = 8;

export const gemmBf16: Backend['gemm'] = (A, B, C, batch, M, N, K, transA, transB, strideA, strideB, strideC, beta) => {
  if (M <= BF16_FP32_MAX_ROWS) gemm(A, B, C, batch, M, N, K, transA, transB, strideA, strideB, strideC, beta);
  else gemm(toBf16(A), toBf16(B), C, batch, M, N, K, transA, transB, strideA, strideB, strideC, beta);
};
