// The avx2 instantiation of the non-GEMM inner kernels: ops_kernels.inc compiled for AVX2 + FMA, 8 lanes.
// Selected at run time by ops_kernels() (ops.cc) only when the CPU supports it; see ops_isa.h.
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "ops_isa.h"

#pragma GCC push_options
// GCC 12 false positives: the intrinsics' own "undefined" vectors, and the vector ABI of file-local functions.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx2,fma")
#define LF_ISA 1

namespace lf {
namespace isa_avx2 {
#include "simd.inc"
#include "ops_kernels.inc"
}  // namespace isa_avx2
}  // namespace lf

#pragma GCC pop_options

namespace lf {
const OpsKernels& ops_kernels_avx2() { return isa_avx2::kTable; }
}  // namespace lf
