// Portable scalar sgemm: the readable fallback for CPUs without AVX2, and the parity reference for the SIMD paths.
#include "gemm.h"
#include "thread_pool.h"

namespace lf {

void sgemm_scalar(const GemmArgs& g) {
  const int64_t M = g.M, N = g.N, K = g.K;
  parallel_for(g.batch * M, 16, [&](int64_t begin, int64_t end) {
    for (int64_t bi = begin; bi < end; ++bi) {
      const int64_t b = bi / M, i = bi % M;
      const float* A = g.A + b * g.strideA;
      const float* B = g.B + b * g.strideB;
      float* C = g.C + b * g.strideC + i * N;
      for (int64_t j = 0; j < N; ++j) C[j] = g.beta == 0.0f ? 0.0f : C[j] * g.beta;
      for (int64_t p = 0; p < K; ++p) {
        const float a = g.transA ? A[p * M + i] : A[i * K + p];
        if (g.transB) {
          for (int64_t j = 0; j < N; ++j) C[j] += a * B[j * K + p];
        } else {
          const float* Brow = B + p * N;
          for (int64_t j = 0; j < N; ++j) C[j] += a * Brow[j];
        }
      }
    }
  });
}

}  // namespace lf
