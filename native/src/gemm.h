// Single-precision GEMM, row-major, batched and strided (see Backend.gemm in src/backend/backend.ts):
//   for b < batch: C[b] = op(A[b]) (M x K) @ op(B[b]) (K x N) + beta * C[b]
// gemm.cc dispatches to the AVX-512, AVX2 or scalar implementation at run time.
#pragma once
#include <cstdint>

namespace lf {

struct GemmArgs {
  const float* A;
  const float* B;
  float* C;
  int64_t batch, M, N, K;
  bool transA, transB;
  int64_t strideA, strideB, strideC;
  float beta;
};

void sgemm(const GemmArgs& g);

// ISA-specific implementations (same contract as sgemm).
void sgemm_scalar(const GemmArgs& g);
void sgemm_avx2(const GemmArgs& g);
void sgemm_avx512(const GemmArgs& g);

}  // namespace lf
