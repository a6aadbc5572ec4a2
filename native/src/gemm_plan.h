// ISA-independent pieces of the packed GEMM drivers (gemm_avx2.cc, gemm_avx512.cc): the thread-local aligned
// packing buffers, and the plan that cuts a batched GEMM into cache blocks (KC along K, MC along M, NC along N)
// and into parallel tasks. A task is one (batch, MC rows, NC columns) block of C computed by one thread from
// start to end, so tasks never share an output element and need no synchronisation; the plan makes enough
// tasks (by splitting N when batch x M-blocks is small) that both the big single-matrix case and the many
// small matrices case keep every thread busy, with dynamic scheduling absorbing cores taken by other
// processes. Nothing here is compiled for a specific ISA, so it is safe to include from any file.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gemm.h"

namespace lf {
namespace gemm_detail {

// A growable 64-byte aligned float buffer; one per thread and role, reused across calls (never shrinks).
struct AlignedBuffer {
  float* data = nullptr;
  size_t capacity = 0;  // floats
  float* get(size_t n) {
    if (n > capacity) {
      std::free(data);
      size_t bytes = ((n + 64) * sizeof(float) + 63) & ~size_t{63};  // slack for overlapping edge stores
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (data == nullptr) std::abort();
      capacity = n;
    }
    return data;
  }
  ~AlignedBuffer() { std::free(data); }
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

struct GemmPlan {
  int64_t mc, nc, kc;                 // block sizes (mc multiple of MR, nc multiple of NR)
  int64_t mblocks, nblocks, kblocks;  // block counts
  int64_t tasks;                      // batch * mblocks * nblocks
};

// Splits each dimension into equal-ish blocks no larger than the maxima, then splits N further until there
// are about `tasks_per_thread` tasks per thread (never below nc_min columns per block).
inline GemmPlan make_plan(const GemmArgs& g, int64_t mr, int64_t nr, int64_t mc_max, int64_t kc_max,
                          int64_t nc_max, int64_t nc_min, int threads, int64_t tasks_per_thread) {
  GemmPlan p{};
  p.kblocks = ceil_div(g.K, kc_max);
  p.kc = std::min(kc_max, round_up(ceil_div(g.K, p.kblocks), 16));
  p.kblocks = ceil_div(g.K, p.kc);
  p.mblocks = ceil_div(g.M, mc_max);
  p.mc = round_up(ceil_div(g.M, p.mblocks), mr);
  p.mblocks = ceil_div(g.M, p.mc);
  p.nblocks = ceil_div(g.N, nc_max);
  const int64_t have = g.batch * p.mblocks * p.nblocks;
  const int64_t want = threads > 1 ? tasks_per_thread * threads : 1;
  if (have < want) {
    const int64_t most = std::max<int64_t>(1, g.N / nc_min);
    p.nblocks = std::max(p.nblocks, std::min(most, ceil_div(want, g.batch * p.mblocks)));
  }
  p.nc = round_up(ceil_div(g.N, p.nblocks), nr);
  p.nblocks = ceil_div(g.N, p.nc);
  p.tasks = g.batch * p.mblocks * p.nblocks;
  return p;
}

}  // namespace gemm_detail
}  // namespace lf
