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

// Reduced precision: A and B are rounded to bfloat16 (8-bit mantissa) and the products summed in fp32 (AMX tiles
// when the CPU has them and the product has at least 16 rows, else AVX512_BF16). Expect relative errors around
// 1e-2 / sqrt-of-K effects, not fp32 accuracy. Products of M <= 8 rows (memory-bound) run the fp32 sgemm, and so
// does everything on CPUs without AVX512_BF16 (after a one-time warning).
void sgemm_bf16(const GemmArgs& g);

// ISA-specific implementations (same contract as sgemm).
void sgemm_scalar(const GemmArgs& g);
void sgemm_avx2(const GemmArgs& g);
void sgemm_avx512(const GemmArgs& g);
void sgemm_bf16_avx512(const GemmArgs& g);  // needs AVX512_BF16
void sgemm_bf16_amx(const GemmArgs& g);     // needs amx_bf16_ready()

// True when the CPU has AMX-BF16 and the OS granted this process the tile state (asked once; LLMFORGE_AMX=0 or
// an LLMFORGE_ISA below avx512 turns AMX off).
bool amx_bf16_ready();

}  // namespace lf
