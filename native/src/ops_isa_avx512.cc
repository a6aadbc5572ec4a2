// The avx512 instantiation of the non-GEMM inner kernels: ops_kernels.inc compiled for AVX-512 (F, BW, VL, DQ), 16 lanes.
// Selected at run time by ops_kernels() (ops.cc) only when the CPU supports it; see ops_isa.h.
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include "ops_isa.h"

#pragma GCC push_options
// GCC 12 false positives: the intrinsics' own "undefined" vectors, and the vector ABI of file-local functions.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
#define LF_ISA 2

namespace lf {
namespace isa_avx512 {
#include "simd.inc"
#include "ops_kernels.inc"
}  // namespace isa_avx512
}  // namespace lf

#pragma GCC pop_options

namespace lf {
const OpsKernels& ops_kernels_avx512() { return isa_avx512::kTable; }
}  // namespace lf
