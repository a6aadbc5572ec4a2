// ISA-independent pieces of the packed GEMM drivers (gemm_avx2.cc, gemm_avx512.cc): the thread-local aligned
// packing buffers, and the plans that cut a GEMM into a K slice size and a grid of (mt x nt) tiles of C for the
// threads. make_plan gives independent tasks (batch x tiles, each packing its own A and B, splitting the larger
// side of a matrix only when the batch alone cannot feed every thread); make_plan_prefer_m gives tiles for the
// shared-B scheme, where splitting M costs nothing extra. Dynamic scheduling over the tiles absorbs cores taken
// by other processes. Nothing here is compiled for a specific ISA, so it is safe to include from any file.
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
  int64_t kc;              // K slice
  int64_t mt, nt;          // rows / columns of C per task (mt multiple of MR, nt multiple of NR)
  int64_t mgroups, ngroups;
  int64_t mc;              // rows of A packed at a time inside a task (multiple of MR, <= mt)
  int64_t tasks;           // batch * mgroups * ngroups
};

// K is cut into equal slices of at most kc_max. Each matrix is cut into a grid of mt x nt tasks: the larger
// side is halved until there are about `tasks_per_thread` tasks per thread (the batch counts), keeping tiles
// square-ish, which minimises the packing work (a task packs its B block once and its A rows once per K slice:
// overheads 1/mt and 1/nt of the multiply-adds). Inside a task, A is packed mc rows at a time (L2-sized).
inline GemmPlan make_plan(const GemmArgs& g, int64_t mr, int64_t nr, int64_t mc_max, int64_t kc_max, int threads,
                          int64_t tasks_per_thread) {
  GemmPlan p{};
  const int64_t kblocks = ceil_div(g.K, kc_max);
  p.kc = std::min(kc_max, round_up(ceil_div(g.K, kblocks), 16));
  const int64_t want = threads > 1 ? tasks_per_thread * threads : 1;
  p.mgroups = 1;
  p.ngroups = 1;
  for (;;) {
    const int64_t mt = round_up(ceil_div(g.M, p.mgroups), mr), nt = round_up(ceil_div(g.N, p.ngroups), nr);
    if (g.batch * p.mgroups * p.ngroups >= want) break;
    const bool can_m = mt >= 2 * mr, can_n = nt >= 2 * nr;
    if (!can_m && !can_n) break;
    if (can_m && (mt >= nt || !can_n)) {
      p.mgroups *= 2;
    } else {
      p.ngroups *= 2;
    }
  }
  p.mt = round_up(ceil_div(g.M, p.mgroups), mr);
  p.mgroups = ceil_div(g.M, p.mt);
  p.nt = round_up(ceil_div(g.N, p.ngroups), nr);
  p.ngroups = ceil_div(g.N, p.nt);
  p.mc = round_up(ceil_div(p.mt, ceil_div(p.mt, mc_max)), mr);
  p.tasks = g.batch * p.mgroups * p.ngroups;
  return p;
}

// Tiles for the shared-B scheme: M is split first (each tile packs its own A rows, so splitting N would pack
// them again) into at most `tiles` groups of at least min_rows rows; N is split only for the remainder.
inline GemmPlan make_plan_prefer_m(int64_t M, int64_t N, int64_t K, int64_t mr, int64_t nr, int64_t mc_max,
                                   int64_t kc_max, int64_t min_rows, int64_t tiles) {
  GemmPlan p{};
  const int64_t kblocks = ceil_div(K, kc_max);
  p.kc = std::min(kc_max, round_up(ceil_div(K, kblocks), 16));
  p.mgroups = std::max<int64_t>(1, std::min(tiles, M / min_rows));
  p.mt = round_up(ceil_div(M, p.mgroups), mr);
  p.mgroups = ceil_div(M, p.mt);
  p.ngroups = std::min(ceil_div(tiles, p.mgroups), ceil_div(N, nr));
  p.nt = round_up(ceil_div(N, p.ngroups), nr);
  p.ngroups = ceil_div(N, p.nt);
  p.mc = round_up(ceil_div(p.mt, ceil_div(p.mt, mc_max)), mr);
  p.tasks = p.mgroups * p.ngroups;
  return p;
}

}  // namespace gemm_detail
}  // namespace lf
