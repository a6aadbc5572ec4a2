/**
 * Reference batched GEMM: C[b] = op(A[b]) @ op(B[b]) + beta * C[b], row-major, with the transposes and batch
 * strides of Backend.gemm (stride 0 broadcasts one matrix over the batch). Each output row is accumulated in a
 * float64 scratch row (loop order i, p, j, so the inner loop runs along a row of B when it is not transposed)
 * and rounded once when stored. beta = 0 overwrites C without reading it, so garbage or NaN in C is ignored.
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
