// Runtime dispatch for sgemm: see gemm.h.
#include "gemm.h"

#include "cpu.h"

namespace lf {

void sgemm(const GemmArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  switch (best_isa()) {
    case Isa::kAvx512: sgemm_avx512(g); return;
    case Isa::kAvx2: sgemm_avx2(g); return;
    default: sgemm_scalar(g); return;
  }
}

}  // namespace lf
