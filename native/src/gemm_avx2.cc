// AVX2/FMA sgemm. Placeholder that forwards to the scalar path until the packed kernel lands.
#include "gemm.h"

namespace lf {

void sgemm_avx2(const GemmArgs& g) { sgemm_scalar(g); }

}  // namespace lf
