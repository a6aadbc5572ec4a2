// The scalar instantiation of the non-GEMM inner kernels: ops_kernels.inc compiled for baseline x86-64 with
// libm exp/tanh/erfc (W = 1). It is the readable reference path and what runs on CPUs without AVX2 or under
// LLMFORGE_ISA=scalar; see ops_isa.h.
#include <math.h>
#include <stdint.h>

#include "ops_isa.h"

#define LF_ISA 0

namespace lf {
namespace isa_scalar {
#include "simd.inc"
#include "ops_kernels.inc"
}  // namespace isa_scalar

const OpsKernels& ops_kernels_scalar() { return isa_scalar::kTable; }
}  // namespace lf
