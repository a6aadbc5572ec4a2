// AVX-512 sgemm (contract in gemm.h) and its bf16 variant. Large products use the classic packed scheme: per KC
// slice of K, op(B) is packed into NR=32 column panels and op(A) into MR=14 row panels (the packing absorbs
// transA/transB, so one micro-kernel serves all four cases), and a 14x32 register-blocked micro-kernel (28 zmm
// accumulators, one broadcast FMA per A element) sweeps them: the B panel (KC x 32) stays in L1 while the A block
// (MC x KC) streams from L2. Column panels are shifted onto C's cache lines, edges use masked stores (N) and a
// row-count template (M); a block of rows is cut into panels of balanced heights (13/14 rather than 14s and a
// ragged remainder), so threads' row tiles carry equal work. A few big matrices share one packed B slice between
// threads (double-buffered: the next slice is packed by whichever thread finishes its tiles first; each thread
// packs its own A rows, overlapping memory and arithmetic); batches of matrices run as independent tasks.
// M <= 8 and N == 1 (decode-time products) read B in place without packing. Compiled with an AVX-512 target
// pragma and only entered after the run-time CPU check in gemm.cc.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <mutex>

#include "gemm.h"
#include "gemm_plan.h"
#include "thread_pool.h"

#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")

namespace lf {
namespace {

using namespace gemm_detail;

constexpr int kMR = 14;                 // micro-tile rows
constexpr int kNR = 32;                 // micro-tile columns (two zmm)
constexpr int64_t kKC = 256;            // K slice: the 32 x KC B panel (32 KiB) lives in L1
constexpr int64_t kMC = 448;            // rows of A per block: 448 x 256 floats (448 KiB) live in L2
// Shared-B scheme with K >= kLongK: K slices of up to kKCLong and A blocks of kMCLong rows (224 x 768 floats,
// 672 KiB, in L2). Each slice reads and writes all of C, so with K of 3072-4096 the 256-deep slices cost 12-16
// passes over a C far larger than the caches; measured +3-6% on 768x4096x3072 TN, 3072x4096x768 TN and
// 4096x3072x768 NT/NN. The B panel (32 x 768, 96 KiB) then streams from L2, which the 28 FMAs per row of B hide.
// Short K keeps 256: a single deep slice would leave B's packing without overlap.
constexpr int64_t kLongK = 1536;
constexpr int64_t kKCLong = 768;
constexpr int64_t kMCLong = 224;
constexpr int64_t kTasksPerThread = 2;  // shared-B scheme: tiles per thread (dynamic scheduling)
constexpr int64_t kMinTileRows = 112;   // shared-B scheme: split M down to this, then split N
constexpr int64_t kCPrefetchTail = 32;  // k iterations left when the C tile is prefetched into L1
constexpr double kInlineFlops = 1.2e7;  // packed path: below this, run on the calling thread only
constexpr double kInlineBytes = 2.5e5;  // small-M path: below this much of B, run on the calling thread only
constexpr int64_t kSmallM = 8;          // M up to this reads B in place (no packing)
constexpr int64_t kShiftMinPanels = 8;  // column panels above which C alignment is worth an extra panel
// Below this many flops a single matrix runs as independent tiles (one fork-join, each thread packing its own
// B block) rather than in the shared-B scheme (a fork-join per K slice): at 2 threads on the T1 training
// products (768 x 128..512 x 128..768) that is 1.1-1.6x, on T2's 2048x384x384 neutral to +6%.
constexpr double kSharedBFlops = 8e8;

thread_local AlignedBuffer tl_pack_a;
thread_local AlignedBuffer tl_pack_b;

inline __mmask16 low_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// ---- micro-kernel -------------------------------------------------------------------------------------------

// C[R x 32] (row stride ldc) = A panel (kc x MR, packed p-major) @ B panel (kc x NR, packed p-major)
// + beta * C. Columns are limited by masks m0 (0..15) and m1 (16..31); rows by R.
template <int R>
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                  __mmask16 m0, __mmask16 m1, float beta, const float* c_next) {
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
  // The next C tile is prefetched to L2 now, this one (prefetched by the previous call) to L1 a few
  // iterations before the end: C is usually far out of cache, and the B panel and A stream would evict it
  // from L1 if it came in at the start.
#pragma GCC unroll 14
  for (int i = 0; i < kMR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c_next + i * ldc), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(c_next + i * ldc + 16), _MM_HINT_T1);
  }
  const int64_t tail = std::min<int64_t>(kc, kCPrefetchTail);
  auto step = [&](int64_t n) {
#pragma GCC unroll 4
    for (int64_t p = 0; p < n; ++p) {
      const __m512 b0 = _mm512_load_ps(b);
      const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        const __m512 ai = _mm512_set1_ps(a[i]);
        acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
      }
      a += kMR;
      b += kNR;
    }
  };
  step(kc - tail);
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  step(tail);
  if (m0 == 0xFFFF && m1 == 0xFFFF) {
    if (beta == 0.0f) {
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        _mm512_storeu_ps(c + i * ldc, acc0[i]);
        _mm512_storeu_ps(c + i * ldc + 16, acc1[i]);
      }
    } else {
      const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
      for (int i = 0; i < R; ++i) {
        _mm512_storeu_ps(c + i * ldc, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + i * ldc), acc0[i]));
        _mm512_storeu_ps(c + i * ldc + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + i * ldc + 16), acc1[i]));
      }
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      __m512 v0 = acc0[i], v1 = acc1[i];
      if (beta != 0.0f) {
        v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c + i * ldc), v0);
        v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + i * ldc + 16), v1);
      }
      _mm512_mask_storeu_ps(c + i * ldc, m0, v0);
      _mm512_mask_storeu_ps(c + i * ldc + 16, m1, v1);
    }
  }
}

using KernelFn = void (*)(int64_t, const float*, const float*, float*, int64_t, __mmask16, __mmask16, float,
                         const float*);
const KernelFn kKernels[kMR + 1] = {
    nullptr,          micro_kernel<1>,  micro_kernel<2>,  micro_kernel<3>,  micro_kernel<4>,
    micro_kernel<5>,  micro_kernel<6>,  micro_kernel<7>,  micro_kernel<8>,  micro_kernel<9>,
    micro_kernel<10>, micro_kernel<11>, micro_kernel<12>, micro_kernel<13>, micro_kernel<14>,
};

// ---- packing ------------------------------------------------------------------------------------------------

// In-register transpose of a 16x16 float block: r[i] lane j  ->  r[j] lane i.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m512 u[16];
  for (int g = 0; g < 4; ++g) {
    const __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  // u[4g + q], 128-bit lane L = column 4L + q of rows 4g..4g+3; gather the lanes.
  for (int q = 0; q < 4; ++q) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44);
    const __m512 v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
    r[q] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[4 + q] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[8 + q] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// dst[p * dstride + r] = src[r * ld + p] for p < kc and r < 16: rows whose bit is set in `rows` are read, the
// others are zero. Stores only the lanes in `wmask` (the panel width).
void pack_transposed(const float* src, int64_t ld, __mmask16 rows, int64_t kc, float* dst, int64_t dstride,
                     __mmask16 wmask) {
  __m512 r[16];
  for (int64_t p0 = 0; p0 < kc; p0 += 16) {
    const int cols = static_cast<int>(std::min<int64_t>(16, kc - p0));
    const __mmask16 cm = low_mask(cols);
    for (int i = 0; i < 16; ++i) {
      r[i] = (rows >> i) & 1 ? _mm512_maskz_loadu_ps(cm, src + i * ld + p0) : _mm512_setzero_ps();
    }
    transpose16(r);
    for (int j = 0; j < cols; ++j) _mm512_mask_storeu_ps(dst + (p0 + j) * dstride, wmask, r[j]);
  }
}

// Row panels of a block of mlen rows: ceil(mlen / MR) panels of balanced heights (they differ by at most one,
// e.g. 256 rows = 9 x 14 + 10 x 13, not 18 x 14 + 4). A ragged last panel (1024 = 73 x 14 + 2) would cost a
// nearly full kernel call for a few rows and unbalance the threads' tiles; 13- and 14-row calls cost in
// proportion to their rows (the kernel is FMA-bound).
struct RowPanels {
  int64_t mlen, count;
  explicit RowPanels(int64_t m) : mlen(m), count(ceil_div(m, kMR)) {}
  int64_t start(int64_t ip) const { return ip * mlen / count; }  // first row of panel ip (ip <= count)
  int rows(int64_t ip) const { return static_cast<int>(start(ip + 1) - start(ip)); }
};

// Packs rows [i0, i0 + mlen) x K slice [p0, p0 + kc) of op(A) into the row panels of RowPanels(mlen): panel ip
// holds dst[ip * kc * MR + p * MR + i] = op(A)[i0 + start(ip) + i, p0 + p] for i < rows(ip), zero up to MR.
void pack_a(const float* A, bool transA, int64_t M, int64_t K, int64_t i0, int64_t mlen, int64_t p0, int64_t kc,
            float* dst) {
  const RowPanels panels(mlen);
  if (transA) {
    // A is (K, M): each p gives rows(ip) contiguous values per panel. Walk 8 rows of A at a time across all
    // panels so the reads stay sequential within a few rows.
    for (int64_t pb = 0; pb < kc; pb += 8) {
      const int64_t pe = std::min(kc, pb + 8);
      for (int64_t ip = 0; ip < panels.count; ++ip) {
        const __mmask16 rm = low_mask(panels.rows(ip));
        const float* s = A + p0 * M + i0 + panels.start(ip);
        float* d = dst + ip * kc * kMR;
        for (int64_t p = pb; p < pe; ++p) {
          _mm512_mask_storeu_ps(d + p * kMR, low_mask(kMR), _mm512_maskz_loadu_ps(rm, s + p * M));
        }
      }
    }
  } else {  // A is (M, K): transpose one panel of rows at a time
    for (int64_t ip = 0; ip < panels.count; ++ip) {
      pack_transposed(A + (i0 + panels.start(ip)) * K + p0, K, low_mask(panels.rows(ip)), kc, dst + ip * kc * kMR,
                      kMR, low_mask(kMR));
    }
  }
}

// Column panels. The N axis is tiled in "virtual" columns v = j + shift, where shift (0..15) is chosen so that
// every panel but the first starts on a 64-byte boundary of C (when rows of C are all equally aligned): a
// 14x32 tile of misaligned C spans 42 cache lines instead of 28, which costs ~15% of the whole GEMM. The panel
// at virtual column v covers real columns v - shift + s for the slots s set in `mask`.
struct ColumnPanel {
  int64_t j;      // real column of slot 0 (negative for a leading partial panel)
  uint32_t mask;  // valid slots
};

inline ColumnPanel column_panel(int64_t v, int64_t shift, int64_t N) {
  const int64_t lo = std::max<int64_t>(0, shift - v);
  const int64_t hi = std::min<int64_t>(kNR, N + shift - v);
  const uint32_t below_hi = hi >= 32 ? 0xFFFFFFFFu : (1u << hi) - 1u;
  return {v - shift, below_hi & ~((1u << lo) - 1u)};
}

// The shift that aligns column panels to C's cache lines, when every row (and every batch) of C has the same
// alignment, and 0 otherwise. A shift can add a panel (N = 128 with C 16 bytes off a line: 5 panels, the first
// and last partial, instead of 4), which costs 1/panels of the multiply: more than the alignment gains (~15%)
// for N up to 8 panels. Measured single-thread on C 16 bytes off a line, 768x128x512 NN and 512x128x768 TN:
// 155 -> 185 GFLOP/s without the shift.
inline int64_t column_shift(const GemmArgs& g) {
  if (g.N % 16 != 0 || g.N < 64 || (g.batch > 1 && g.strideC % 16 != 0)) return 0;
  const int64_t shift = static_cast<int64_t>((reinterpret_cast<uintptr_t>(g.C) / sizeof(float)) % 16);
  const int64_t panels = ceil_div(g.N, kNR);
  return ceil_div(g.N + shift, kNR) == panels || panels > kShiftMinPanels ? shift : 0;
}

// Packs K slice [p0, p0 + kc) x virtual columns [v0, v0 + vlen) of op(B) into NR-column panels: panel jp holds
// dst[jp * kc * NR + p * NR + s] = op(B)[p0 + p, j + s] for its valid slots s, zero elsewhere.
void pack_b(const float* B, bool transB, int64_t N, int64_t K, int64_t v0, int64_t vlen, int64_t shift, int64_t p0,
            int64_t kc, float* dst) {
  const int64_t panels = ceil_div(vlen, kNR);
  if (transB) {  // B is (N, K): transpose two groups of 16 rows per panel
    for (int64_t jp = 0; jp < panels; ++jp) {
      const ColumnPanel cp = column_panel(v0 + jp * kNR, shift, N);
      for (int h = 0; h < 2; ++h) {
        const __mmask16 rows = static_cast<__mmask16>(cp.mask >> (16 * h));
        pack_transposed(B + (cp.j + 16 * h) * K + p0, K, rows, kc, dst + jp * kc * kNR + 16 * h, kNR, 0xFFFF);
      }
    }
  } else {
    // B is (K, N): rows are contiguous. Walk 8 rows at a time across all panels (sequential reads).
    for (int64_t pb = 0; pb < kc; pb += 8) {
      const int64_t pe = std::min(kc, pb + 8);
      for (int64_t jp = 0; jp < panels; ++jp) {
        const ColumnPanel cp = column_panel(v0 + jp * kNR, shift, N);
        const __mmask16 m0 = static_cast<__mmask16>(cp.mask), m1 = static_cast<__mmask16>(cp.mask >> 16);
        const float* s = B + p0 * N + cp.j;
        float* d = dst + jp * kc * kNR;
        for (int64_t p = pb; p < pe; ++p) {
          _mm512_store_ps(d + p * kNR, _mm512_maskz_loadu_ps(m0, s + p * N));
          _mm512_store_ps(d + p * kNR + 16, _mm512_maskz_loadu_ps(m1, s + p * N + 16));
        }
      }
    }
  }
}

// ---- packed driver ------------------------------------------------------------------------------------------

// C rows [0, mb) x virtual columns [v0, v0 + vlen) += packed A rows (pa: the RowPanels(mb) panels, kc deep) @
// packed B columns (pb: panels of NR columns, kc deep). The B panel stays in L1 while the A panels stream past it.
void multiply_packed(const float* pa, const float* pb, float* C, int64_t ldc, int64_t mb, int64_t v0, int64_t vlen,
                     int64_t shift, int64_t N, int64_t kc, float beta) {
  for (int64_t jp = 0; jp * kNR < vlen; ++jp) {
    const ColumnPanel panel = column_panel(v0 + jp * kNR, shift, N);
    const __mmask16 m0 = static_cast<__mmask16>(panel.mask), m1 = static_cast<__mmask16>(panel.mask >> 16);
    const float* bp = pb + jp * kc * kNR;
    float* cp = C + panel.j;
    const RowPanels panels(mb);
    for (int64_t ip = 0; ip < panels.count; ++ip) {
      // Prefetch target for the next call: the tile below, or the top of the next column panel.
      const float* next = ip + 1 < panels.count ? cp + panels.start(ip + 1) * ldc : cp + kNR;
      kKernels[panels.rows(ip)](kc, pa + ip * kc * kMR, bp, cp + panels.start(ip) * ldc, ldc, m0, m1, beta, next);
    }
  }
}

// Independent scheme (batch >= 2 x threads, or one thread): one task is the (mt x nt) block of C[bi] at row i0
// and virtual column v0, computed start to end by one thread with its own packing buffers: per K slice the B
// block is packed once, then A is packed and multiplied mc rows at a time.
void gemm_task(const GemmArgs& g, const GemmPlan& plan, int64_t shift, int64_t task) {
  const int64_t ng = task % plan.ngroups;
  const int64_t mg = (task / plan.ngroups) % plan.mgroups;
  const int64_t bi = task / (plan.ngroups * plan.mgroups);
  const float* A = g.A + bi * g.strideA;
  const float* B = g.B + bi * g.strideB;
  float* C = g.C + bi * g.strideC;
  const int64_t i0 = mg * plan.mt, mlen = std::min(plan.mt, g.M - i0);
  const int64_t v0 = ng * plan.nt, vlen = std::min(plan.nt, g.N + shift - v0);
  float* pa = tl_pack_a.get(static_cast<size_t>(plan.mc * plan.kc));
  float* pb = tl_pack_b.get(static_cast<size_t>(round_up(vlen, kNR) * plan.kc));
  for (int64_t p0 = 0; p0 < g.K; p0 += plan.kc) {
    const int64_t kc = std::min(plan.kc, g.K - p0);
    const float beta = p0 == 0 ? g.beta : 1.0f;
    pack_b(B, g.transB, g.N, g.K, v0, vlen, shift, p0, kc, pb);
    for (int64_t ib = i0; ib < i0 + mlen; ib += plan.mc) {
      const int64_t mb = std::min(plan.mc, i0 + mlen - ib);
      pack_a(A, g.transA, g.M, g.K, ib, mb, p0, kc, pa);
      multiply_packed(pa, pb, C + ib * g.N, g.N, mb, v0, vlen, shift, g.N, kc, beta);
    }
  }
}

// Shared-B scheme (few big matrices, several threads): the packed B slices are double-buffered in a shared
// buffer. One fork-join per K slice runs the plan's tiles, each packing its own A rows (thread-local) between
// multiplies, followed by work items that pack the next B slice into the other half of the buffer: a thread that
// finishes its tiles early packs B instead of waiting at the barrier, and the packing (memory-bound) overlaps the
// other thread's arithmetic. Only the first slice is packed in a fork-join of its own. The plan prefers to split
// M, so A is packed once, or a few times when M is small.
std::mutex g_shared_mu;  // the shared buffer serves one call at a time
AlignedBuffer g_shared_b;

void gemm_shared_b(const GemmArgs& g, int64_t bi, int64_t shift, int threads) {
  const float* A = g.A + bi * g.strideA;
  const float* B = g.B + bi * g.strideB;
  float* C = g.C + bi * g.strideC;
  const int64_t nv = g.N + shift;
  // Long K: deeper slices (fewer passes over C, fewer fork-joins), with shorter A blocks to stay in L2.
  const bool long_k = g.K >= kLongK;
  const int64_t kc_max = long_k ? kKCLong : kKC, mc_max = long_k ? kMCLong : kMC;
  const GemmPlan plan = make_plan_prefer_m(g.M, nv, g.K, kMR, kNR, mc_max, kc_max, kMinTileRows, threads * kTasksPerThread);
  const int64_t bpanels = ceil_div(nv, kNR);
  constexpr int64_t kBGroup = 4;  // panels per packing work item
  const int64_t bgroups = ceil_div(bpanels, kBGroup);
  std::lock_guard<std::mutex> lock(g_shared_mu);
  const int64_t slice = bpanels * kNR * plan.kc;  // floats per packed B slice
  float* const pb_base = g_shared_b.get(static_cast<size_t>(2 * slice));
  // Work item t of packing the K slice at p0 into dst.
  auto pack_b_item = [&](int64_t t, int64_t p0, float* dst) {
    const int64_t v0 = t * kBGroup * kNR, kc = std::min(plan.kc, g.K - p0);
    pack_b(B, g.transB, g.N, g.K, v0, std::min(kBGroup * kNR, nv - v0), shift, p0, kc, dst + v0 * kc);
  };
  parallel_for(bgroups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) pack_b_item(t, 0, pb_base);
  });
  for (int64_t p0 = 0, s = 0; p0 < g.K; p0 += plan.kc, ++s) {
    const int64_t kc = std::min(plan.kc, g.K - p0);
    const float beta = p0 == 0 ? g.beta : 1.0f;
    float* const pb = pb_base + (s % 2) * slice;
    float* const pb_next = pb_base + ((s + 1) % 2) * slice;
    const int64_t next_items = p0 + plan.kc < g.K ? bgroups : 0;
    parallel_for(plan.tasks + next_items, 1, [&](int64_t begin, int64_t end) {
      float* pa = tl_pack_a.get(static_cast<size_t>(round_up(mc_max, kMR) * plan.kc));
      for (int64_t t = begin; t < end; ++t) {
        if (t >= plan.tasks) {  // items after the tiles pack the next B slice
          pack_b_item(t - plan.tasks, p0 + plan.kc, pb_next);
          continue;
        }
        const int64_t ng = t % plan.ngroups, mg = t / plan.ngroups;
        // Row tiles of equal height (+-1) rather than the plan's MR multiples (1024 rows in 4 tiles: 266, 266,
        // 266, 226 would leave one thread 8% more work per K slice), and blocks of equal height inside a tile.
        const int64_t i0 = mg * g.M / plan.mgroups, i1 = (mg + 1) * g.M / plan.mgroups;
        const int64_t blocks = ceil_div(i1 - i0, mc_max);
        const int64_t v0 = ng * plan.nt, vlen = std::min(plan.nt, nv - v0);
        for (int64_t b = 0; b < blocks; ++b) {
          const int64_t ib = i0 + b * (i1 - i0) / blocks, mb = i0 + (b + 1) * (i1 - i0) / blocks - ib;
          pack_a(A, g.transA, g.M, g.K, ib, mb, p0, kc, pa);
          multiply_packed(pa, pb + v0 * kc, C + ib * g.N, g.N, mb, v0, vlen, shift, g.N, kc, beta);
        }
      }
    });
  }
}

// ---- small M and matrix-vector (no packing) ----------------------------------------------------------------
// With few rows of A (decode-time products: M == 1, or a handful of sequences), packing B would cost as much as
// the multiply, and the work is bound by reading B once. These loops read B in place: R rows of A at a time
// against a block of B columns (B stored (K, N): rows of B are streamed, 16 * V columns in registers) or of B
// rows (B stored (N, K): dot products along K). N == 1 with large M is the same with the roles of A and B
// swapped. `a` is R rows of op(A), row-major with stride lda.

// C[i, j] = sum_p a[i, p] * W[p, j] + beta * C[i, j], i < R, j in [j0, j1). W is (K, *) with row stride ldw.
template <int R, int V>
void rows_axpy(const float* a, int64_t lda, const float* W, int64_t ldw, int64_t K, float* C, int64_t ldc,
               int64_t j0, int64_t j1, float beta) {
  for (int64_t j = j0; j < j1; j += 16 * V) {
    const int64_t w = std::min<int64_t>(16 * V, j1 - j);
    __mmask16 m[V];
    for (int v = 0; v < V; ++v) m[v] = low_mask(std::max<int64_t>(0, w - 16 * v));
    __m512 acc[R][V];
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
    const float* wp = W + j;
    if (w == 16 * V) {
      for (int64_t p = 0; p < K; ++p) {
        __m512 b[V];
        for (int v = 0; v < V; ++v) b[v] = _mm512_loadu_ps(wp + p * ldw + 16 * v);
        for (int i = 0; i < R; ++i) {
          const __m512 ai = _mm512_set1_ps(a[i * lda + p]);
          for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
        }
      }
    } else {
      for (int64_t p = 0; p < K; ++p) {
        __m512 b[V];
        for (int v = 0; v < V; ++v) b[v] = _mm512_maskz_loadu_ps(m[v], wp + p * ldw + 16 * v);
        for (int i = 0; i < R; ++i) {
          const __m512 ai = _mm512_set1_ps(a[i * lda + p]);
          for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
        }
      }
    }
    for (int i = 0; i < R; ++i) {
      for (int v = 0; v < V; ++v) {
        float* c = C + i * ldc + j + 16 * v;
        __m512 r = acc[i][v];
        if (beta != 0.0f) r = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m[v], c), r);
        _mm512_mask_storeu_ps(c, m[v], r);
      }
    }
  }
}

// C[i, j] = dot(a[i, :], W[j, :]) + beta * C[i, j], i < R, j in [j0, j1). W is (*, K) with row stride ldw.
template <int R>
void rows_dot(const float* a, int64_t lda, const float* W, int64_t ldw, int64_t K, float* C, int64_t ldc,
              int64_t j0, int64_t j1, float beta) {
  constexpr int J = R == 1 ? 8 : R <= 4 ? 4 : 2;  // rows of W per step (R x J accumulators)
  for (int64_t j = j0; j < j1; j += J) {
    const int nj = static_cast<int>(std::min<int64_t>(J, j1 - j));
    const float* w_row[J];
    for (int q = 0; q < J; ++q) w_row[q] = W + (j + std::min(q, nj - 1)) * ldw;  // tail rows repeat the last
    __m512 acc[R][J];
    for (int i = 0; i < R; ++i)
      for (int q = 0; q < J; ++q) acc[i][q] = _mm512_setzero_ps();
    int64_t p = 0;
    for (; p + 16 <= K; p += 16) {
      __m512 w[J];
      for (int q = 0; q < J; ++q) w[q] = _mm512_loadu_ps(w_row[q] + p);
      for (int i = 0; i < R; ++i) {
        const __m512 ai = _mm512_loadu_ps(a + i * lda + p);
        for (int q = 0; q < J; ++q) acc[i][q] = _mm512_fmadd_ps(ai, w[q], acc[i][q]);
      }
    }
    if (p < K) {
      const __mmask16 km = low_mask(K - p);
      __m512 w[J];
      for (int q = 0; q < J; ++q) w[q] = _mm512_maskz_loadu_ps(km, w_row[q] + p);
      for (int i = 0; i < R; ++i) {
        const __m512 ai = _mm512_maskz_loadu_ps(km, a + i * lda + p);
        for (int q = 0; q < J; ++q) acc[i][q] = _mm512_fmadd_ps(ai, w[q], acc[i][q]);
      }
    }
    for (int i = 0; i < R; ++i) {
      for (int q = 0; q < nj; ++q) {
        const float sum = _mm512_reduce_add_ps(acc[i][q]);
        float* c = C + i * ldc + j + q;
        *c = beta == 0.0f ? sum : sum + beta * *c;
      }
    }
  }
}

using RowsFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t, int64_t, int64_t,
                        float);
constexpr int kSmallRows = 8;  // rows of A per pass over B (up to 24 accumulators)
const RowsFn kRowsAxpy[kSmallRows + 1] = {nullptr,         rows_axpy<1, 8>, rows_axpy<2, 8>,
                                          rows_axpy<3, 6>, rows_axpy<4, 4>, rows_axpy<5, 4>,
                                          rows_axpy<6, 4>, rows_axpy<7, 3>, rows_axpy<8, 3>};
const RowsFn kRowsDot[kSmallRows + 1] = {nullptr,     rows_dot<1>, rows_dot<2>, rows_dot<3>, rows_dot<4>,
                                         rows_dot<5>, rows_dot<6>, rows_dot<7>, rows_dot<8>};

thread_local AlignedBuffer tl_small_a;

// M <= kSmallM: C (M, N) = op(A) @ op(B) + beta C, in groups of up to 4 rows, parallel over batch x column chunks.
void gemm_small_m(const GemmArgs& g) {
  const bool axpy = !g.transB && g.N > 1;  // N == 1: B is one contiguous row either way
  const int64_t chunk = axpy ? 512 : 64;
  const int64_t chunks = ceil_div(g.N, chunk);
  const double bytes = 4.0 * static_cast<double>(g.batch) * static_cast<double>(g.K) * static_cast<double>(g.N);
  const int64_t n = g.batch * chunks;
  parallel_for(n, bytes < kInlineBytes ? n : 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t bi = t / chunks, c = t % chunks;
      const int64_t j0 = c * chunk, j1 = std::min(g.N, j0 + chunk);
      const float* A = g.A + bi * g.strideA;
      const float* B = g.B + bi * g.strideB;
      float* C = g.C + bi * g.strideC;
      // op(A) as M contiguous rows of K: in place, or transposed into a small buffer ((K, M) stored).
      const float* a = A;
      if (g.transA && g.M > 1) {
        float* buf = tl_small_a.get(static_cast<size_t>(g.M * g.K));
        for (int64_t p = 0; p < g.K; ++p)
          for (int64_t i = 0; i < g.M; ++i) buf[i * g.K + p] = A[p * g.M + i];
        a = buf;
      }
      for (int64_t i = 0; i < g.M; i += kSmallRows) {
        const int r = static_cast<int>(std::min<int64_t>(kSmallRows, g.M - i));
        if (axpy) {
          kRowsAxpy[r](a + i * g.K, g.K, B, g.N, g.K, C + i * g.N, g.N, j0, j1, g.beta);
        } else {
          kRowsDot[r](a + i * g.K, g.K, B, g.K, g.K, C + i * g.N, g.N, j0, j1, g.beta);
        }
      }
    }
  });
}

// N == 1: C (M, 1) = op(A) @ b, with b the contiguous column of B. A stored (M, K) gives dot products, A stored
// (K, M) gives a sum of its rows scaled by b.
void gemv_n1(const GemmArgs& g) {
  const int64_t chunk = g.transA ? 512 : 64;
  const int64_t chunks = ceil_div(g.M, chunk);
  const double bytes = 4.0 * static_cast<double>(g.batch) * static_cast<double>(g.K) * static_cast<double>(g.M);
  const int64_t n = g.batch * chunks;
  parallel_for(n, bytes < kInlineBytes ? n : 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t bi = t / chunks, c = t % chunks;
      const int64_t j0 = c * chunk, j1 = std::min(g.M, j0 + chunk);
      const float* A = g.A + bi * g.strideA;
      const float* b = g.B + bi * g.strideB;
      float* y = g.C + bi * g.strideC;
      if (g.transA) {
        rows_axpy<1, 8>(b, g.K, A, g.M, g.K, y, 0, j0, j1, g.beta);
      } else {
        rows_dot<1>(b, g.K, A, g.K, g.K, y, 0, j0, j1, g.beta);
      }
    }
  });
}

// ---- bf16 (reduced precision) ------------------------------------------------------------------------------
// gemmBf16: the same blocking with inputs rounded to bfloat16 and products accumulated in fp32 by vdpbf16ps,
// which multiplies pairs of K (twice the multiply-adds per instruction). Panels are first packed as fp32 by the
// packers above, then converted: each 32-bit lane holds (k, k + 1) of one row or column. Only these functions
// are compiled with AVX512_BF16, and they run only when the CPU reports it.
#define LF_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx512bf16")))

thread_local AlignedBuffer tl_bf16_a;
thread_local AlignedBuffer tl_bf16_b;

// dst[q * W + w] = (bf16(src[2q * W + w]), bf16(src[(2q + 1) * W + w])) for q < ceil(kc / 2), w < W (W <= 32).
LF_BF16_TARGET void panel_to_bf16_pairs(const float* src, int64_t kc, int W, uint32_t* dst) {
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_load_si512(kInterleave);
  for (int64_t q = 0; q * 2 < kc; ++q) {
    const float* r0 = src + 2 * q * W;
    const bool has_r1 = 2 * q + 1 < kc;
    for (int w = 0; w < W; w += 16) {
      const __mmask16 m = low_mask(W - w);
      const __m512 x0 = _mm512_maskz_loadu_ps(m, r0 + w);
      const __m512 x1 = has_r1 ? _mm512_maskz_loadu_ps(m, r0 + W + w) : _mm512_setzero_ps();
      const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(x1, x0));  // x0 low half, x1 high
      _mm512_mask_storeu_epi32(dst + q * W + w, m, _mm512_permutexvar_epi16(idx, both));
    }
  }
}

template <int R>
LF_BF16_TARGET void bf16_kernel(int64_t kp, const uint32_t* __restrict a, const uint32_t* __restrict b, float* c,
                                int64_t ldc, __mmask16 m0, __mmask16 m1, float beta) {
  __m512 acc0[R], acc1[R];
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t q = 0; q < kp; ++q) {
    const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_load_si512(b));
    const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_load_si512(b + 16));
#pragma GCC unroll 14
    for (int i = 0; i < R; ++i) {
      const __m512bh ai = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a[i])));
      acc0[i] = _mm512_dpbf16_ps(acc0[i], ai, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], ai, b1);
    }
    a += kMR;
    b += kNR;
  }
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
  for (int i = 0; i < R; ++i) {
    __m512 v0 = acc0[i], v1 = acc1[i];
    if (beta != 0.0f) {
      v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c + i * ldc), v0);
      v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + i * ldc + 16), v1);
    }
    _mm512_mask_storeu_ps(c + i * ldc, m0, v0);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, v1);
  }
}

using Bf16KernelFn = void (*)(int64_t, const uint32_t*, const uint32_t*, float*, int64_t, __mmask16, __mmask16,
                              float);
const Bf16KernelFn kBf16Kernels[kMR + 1] = {
    nullptr,         bf16_kernel<1>,  bf16_kernel<2>,  bf16_kernel<3>,  bf16_kernel<4>,
    bf16_kernel<5>,  bf16_kernel<6>,  bf16_kernel<7>,  bf16_kernel<8>,  bf16_kernel<9>,
    bf16_kernel<10>, bf16_kernel<11>, bf16_kernel<12>, bf16_kernel<13>, bf16_kernel<14>,
};

LF_BF16_TARGET void bf16_task(const GemmArgs& g, const GemmPlan& plan, int64_t shift, int64_t task) {
  const int64_t ng = task % plan.ngroups;
  const int64_t mg = (task / plan.ngroups) % plan.mgroups;
  const int64_t bi = task / (plan.ngroups * plan.mgroups);
  const float* A = g.A + bi * g.strideA;
  const float* B = g.B + bi * g.strideB;
  float* C = g.C + bi * g.strideC;
  const int64_t i0 = mg * plan.mt, mlen = std::min(plan.mt, g.M - i0);
  const int64_t v0 = ng * plan.nt, vlen = std::min(plan.nt, g.N + shift - v0);
  const int64_t bpanels = ceil_div(vlen, kNR);
  float* fa = tl_pack_a.get(static_cast<size_t>(plan.mc * plan.kc));
  float* fb = tl_pack_b.get(static_cast<size_t>(bpanels * kNR * plan.kc));
  const int64_t kp_max = ceil_div(plan.kc, 2);
  uint32_t* ha = reinterpret_cast<uint32_t*>(tl_bf16_a.get(static_cast<size_t>(plan.mc * kp_max)));
  uint32_t* hb = reinterpret_cast<uint32_t*>(tl_bf16_b.get(static_cast<size_t>(bpanels * kNR * kp_max)));
  for (int64_t p0 = 0; p0 < g.K; p0 += plan.kc) {
    const int64_t kc = std::min(plan.kc, g.K - p0), kp = ceil_div(kc, 2);
    const float beta = p0 == 0 ? g.beta : 1.0f;
    pack_b(B, g.transB, g.N, g.K, v0, vlen, shift, p0, kc, fb);
    for (int64_t jp = 0; jp < bpanels; ++jp) panel_to_bf16_pairs(fb + jp * kc * kNR, kc, kNR, hb + jp * kp * kNR);
    for (int64_t ib = i0; ib < i0 + mlen; ib += plan.mc) {
      const int64_t mb = std::min(plan.mc, i0 + mlen - ib);
      pack_a(A, g.transA, g.M, g.K, ib, mb, p0, kc, fa);
      const RowPanels panels(mb);
      for (int64_t ip = 0; ip < panels.count; ++ip) {
        panel_to_bf16_pairs(fa + ip * kc * kMR, kc, kMR, ha + ip * kp * kMR);
      }
      for (int64_t jp = 0; jp < bpanels; ++jp) {
        const ColumnPanel panel = column_panel(v0 + jp * kNR, shift, g.N);
        const __mmask16 m0 = static_cast<__mmask16>(panel.mask), m1 = static_cast<__mmask16>(panel.mask >> 16);
        float* cp = C + ib * g.N + panel.j;
        for (int64_t ip = 0; ip < panels.count; ++ip) {
          kBf16Kernels[panels.rows(ip)](kp, ha + ip * kp * kMR, hb + jp * kp * kNR, cp + panels.start(ip) * g.N, g.N,
                                        m0, m1, beta);
        }
      }
    }
  }
}

}  // namespace

void sgemm_avx512(const GemmArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  if (g.K == 0) {
    sgemm_scalar(g);  // C = beta * C
    return;
  }
  if (g.M <= kSmallM) {
    gemm_small_m(g);
    return;
  }
  if (g.N == 1) {
    gemv_n1(g);
    return;
  }
  const double flops = 2.0 * static_cast<double>(g.batch) * static_cast<double>(g.M) *
                       static_cast<double>(g.N) * static_cast<double>(g.K);
  const int threads = flops < kInlineFlops ? 1 : num_threads();
  const int64_t shift = column_shift(g);
  if (threads > 1 && g.batch < 2 * threads && flops >= kSharedBFlops) {
    for (int64_t bi = 0; bi < g.batch; ++bi) gemm_shared_b(g, bi, shift, threads);
    return;
  }
  GemmArgs shifted = g;
  shifted.N = g.N + shift;
  const GemmPlan plan = make_plan(shifted, kMR, kNR, kMC, kKC, threads, 1);
  parallel_for(plan.tasks, threads == 1 ? plan.tasks : 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) gemm_task(g, plan, shift, t);
  });
}

}  // namespace lf

namespace lf {

void sgemm_bf16_avx512(const GemmArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  if (g.K == 0) {
    sgemm_scalar(g);  // C = beta * C
    return;
  }
  const double flops = 2.0 * static_cast<double>(g.batch) * static_cast<double>(g.M) *
                       static_cast<double>(g.N) * static_cast<double>(g.K);
  const int threads = flops < kInlineFlops ? 1 : num_threads();
  const int64_t shift = column_shift(g);
  GemmArgs shifted = g;
  shifted.N = g.N + shift;
  const GemmPlan plan = make_plan(shifted, kMR, kNR, kMC, kKC, threads, 4);
  parallel_for(plan.tasks, threads == 1 ? plan.tasks : 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) bf16_task(g, plan, shift, t);
  });
}

}  // namespace lf
