// AVX-512 sgemm. Placeholder that forwards to the scalar path until the packed kernel lands.
#include "gemm.h"

namespace lf {

void sgemm_avx512(const GemmArgs& g) { sgemm_scalar(g); }

}  // namespace lf
