// Runtime dispatch for sgemm and sgemm_bf16: see gemm.h.
#include "gemm.h"

#include <cstdio>

#include "cpu.h"

namespace lf {

// Fewer rows than this (decode-time products) are memory-bound: AMX's 16-row tiles would mostly multiply padding.
constexpr int64_t kAmxMinRows = 16;
// Up to this many rows gemmBf16 runs the fp32 kernel: such products only stream B once (memory-bound), so bf16
// operands would not make them faster, and packing B to bf16 would make them many times slower.
constexpr int64_t kBf16Fp32MaxRows = 8;

void sgemm(const GemmArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  switch (best_isa()) {
    case Isa::kAvx512: sgemm_avx512(g); return;
    case Isa::kAvx2: sgemm_avx2(g); return;
    default: sgemm_scalar(g); return;
  }
}

void sgemm_bf16(const GemmArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  if (g.M <= kBf16Fp32MaxRows) {
    sgemm(g);
    return;
  }
  if (g.M >= kAmxMinRows && g.K > 0 && amx_bf16_ready()) {
    sgemm_bf16_amx(g);
    return;
  }
  if (best_isa() == Isa::kAvx512 && cpu_has_avx512bf16()) {
    sgemm_bf16_avx512(g);
    return;
  }
  static bool warned = false;
  if (!warned) {
    warned = true;
    std::fprintf(stderr, "WARNING: gemmBf16: this CPU (or LLMFORGE_ISA) has no AVX512_BF16; running fp32 gemm instead\n");
  }
  sgemm(g);
}

}  // namespace lf
