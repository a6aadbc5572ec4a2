// gemmBf16 on Intel AMX (AMX-BF16 tile matrix multiply; contract in gemm.h): bf16 operands, fp32 accumulation.
// One TDPBF16PS multiplies a 16 x 32 bf16 tile of A by a 32 x 16 tile of B into a 16 x 16 fp32 tile of C, about
// 15x the multiply-adds per cycle of AVX-512 FMA. Per matrix of the batch:
//   1. op(A) is packed to bf16 rows (Ap: Mp x Kp pairs, each uint32 holding (k, k+1) of one row), op(B) to
//      "VNNI" column panels of 16 (Bp: per panel Kp rows of 16 pairs); the packing absorbs transA/transB and the
//      rounding (round to nearest even), and pads M, N to multiples of 32 and K to a multiple of 32 with zeros.
//   2. Tasks of 64 columns of C sweep all rows in blocks of 32: 2 x 2 accumulator tiles per 32 x 32 block, two A
//      and two B tiles per 32-deep step of K; the task's B panels (Kp x 64 pairs) stay in L2 while A streams.
//   3. Each 32 x 32 block is stored to a scratch tile and added into C with beta and edge masks.
// The kernel needs the kernel's permission to use the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, Linux
// 5.16+); amx_bf16_ready() asks for it once and reports whether AMX can run. Only these functions are compiled
// with the AMX target and they run only after that check.
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "gemm.h"
#include "gemm_plan.h"
#include "thread_pool.h"

#define LF_AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx512bf16,amx-tile,amx-bf16")))

namespace lf {
namespace {

using namespace gemm_detail;

constexpr int64_t kPairs = 16;   // pairs (32 bf16 of K) per tile row; also tile rows and C tile columns
constexpr int64_t kBlock = 32;   // rows and columns of C per 2 x 2 block of accumulator tiles
constexpr int64_t kTaskCols = 64;  // columns of C per task (its B panels stay in L2)

// Ap and Bp of the calling thread (its pool workers get the pointers), so concurrent callers never share them.
thread_local AlignedBuffer tl_amx_a;
thread_local AlignedBuffer tl_amx_b;

inline __mmask16 mask16(int64_t n) {
  if (n <= 0) return 0;
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

struct TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Tiles 0-3: C accumulators, 4-5: A, 6-7: B; all 16 rows of 64 bytes. Loaded once per thread.
LF_AMX_TARGET void configure_tiles() {
  thread_local bool configured = false;
  if (configured) return;
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  configured = true;
}

// 32 floats of a row (k = k0 .. k0 + 31, zero at k >= K) as 16 bf16 pairs.
LF_AMX_TARGET inline __m512i row_pairs(const float* row, int64_t k0, int64_t K) {
  const __m512 lo = _mm512_maskz_loadu_ps(mask16(K - k0), row + k0);
  const __m512 hi = _mm512_maskz_loadu_ps(mask16(K - k0 - 16), row + k0 + 16);
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// Two rows of 16 floats (x0 = k, x1 = k + 1) as 16 pairs (x0[w], x1[w]).
LF_AMX_TARGET inline __m512i interleave_pairs(__m512 x0, __m512 x1) {
  alignas(64) static const uint16_t kInterleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                                      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(x1, x0));
  return _mm512_permutexvar_epi16(_mm512_load_si512(kInterleave), both);
}

// Ap rows [16 * blk, 16 * blk + 16): Ap[i * Kp + q] = (op(A)[i, 2q], op(A)[i, 2q + 1]), zero outside M x K.
LF_AMX_TARGET void pack_a_block(const float* A, bool transA, int64_t M, int64_t K, int64_t Kp, int64_t blk,
                                uint32_t* Ap) {
  const int64_t i0 = blk * kPairs;
  if (!transA) {
    for (int64_t i = i0; i < i0 + kPairs; ++i) {
      uint32_t* dst = Ap + i * Kp;
      if (i >= M) {
        std::memset(dst, 0, static_cast<size_t>(Kp) * sizeof(uint32_t));
        continue;
      }
      for (int64_t q = 0; q < Kp; q += kPairs) _mm512_storeu_si512(dst + q, row_pairs(A + i * K, 2 * q, K));
    }
    return;
  }
  // A is stored (K, M): rows k and k + 1 give one pair for 16 consecutive i, scattered down Ap's column q.
  const __mmask16 m = mask16(M - i0);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(Kp)));
  for (int64_t q = 0; q < Kp; ++q) {
    const int64_t k = 2 * q;
    const __m512 x0 = k < K ? _mm512_maskz_loadu_ps(m, A + k * M + i0) : _mm512_setzero_ps();
    const __m512 x1 = k + 1 < K ? _mm512_maskz_loadu_ps(m, A + (k + 1) * M + i0) : _mm512_setzero_ps();
    _mm512_i32scatter_epi32(Ap + i0 * Kp + q, idx, interleave_pairs(x0, x1), 4);
  }
}

// Bp panel jp (columns 16 jp .. 16 jp + 15): Bp[(jp * Kp + q) * 16 + j] = (op(B)[2q, n], op(B)[2q + 1, n]).
LF_AMX_TARGET void pack_b_panel(const float* B, bool transB, int64_t N, int64_t K, int64_t Kp, int64_t jp,
                                uint32_t* Bp) {
  const int64_t n0 = jp * kPairs;
  uint32_t* dst = Bp + jp * Kp * kPairs;
  if (!transB) {  // B is stored (K, N): rows k and k + 1 of the panel interleave into one row of pairs
    const __mmask16 m = mask16(N - n0);
    for (int64_t q = 0; q < Kp; ++q) {
      const int64_t k = 2 * q;
      const __m512 x0 = k < K ? _mm512_maskz_loadu_ps(m, B + k * N + n0) : _mm512_setzero_ps();
      const __m512 x1 = k + 1 < K ? _mm512_maskz_loadu_ps(m, B + (k + 1) * N + n0) : _mm512_setzero_ps();
      _mm512_store_si512(dst + q * kPairs, interleave_pairs(x0, x1));
    }
    return;
  }
  // B is stored (N, K): column n's pairs are contiguous; 16 of them are scattered down the panel's column j.
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(kPairs)));
  for (int64_t j = 0; j < kPairs; ++j) {
    const int64_t n = n0 + j;
    for (int64_t q = 0; q < Kp; q += kPairs) {
      const __m512i v = n < N ? row_pairs(B + n * K, 2 * q, K) : _mm512_setzero_si512();
      _mm512_i32scatter_epi32(dst + q * kPairs + j, idx, v, 4);
    }
  }
}

// C[i0.., j0..] (rows < M, columns < N) = acc + beta * C, from a 32 x 32 scratch block.
LF_AMX_TARGET void store_block(const float* acc, float* C, int64_t ldc, int64_t i0, int64_t j0, int64_t M,
                               int64_t N, float beta) {
  const int64_t rows = std::min(kBlock, M - i0);
  const __mmask16 m0 = mask16(N - j0), m1 = mask16(N - j0 - 16);
  const __m512 vb = _mm512_set1_ps(beta);
  for (int64_t r = 0; r < rows; ++r) {
    float* c = C + (i0 + r) * ldc + j0;
    __m512 v0 = _mm512_load_ps(acc + r * kBlock), v1 = _mm512_load_ps(acc + r * kBlock + 16);
    if (beta != 0.0f) {
      v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), v0);
      v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), v1);
    }
    _mm512_mask_storeu_ps(c, m0, v0);
    _mm512_mask_storeu_ps(c + 16, m1, v1);
  }
}

// Columns [64 t, 64 t + 64) of C over all rows.
LF_AMX_TARGET void compute_task(const uint32_t* Ap, const uint32_t* Bp, float* C, int64_t M, int64_t N, int64_t Kp,
                                int64_t Mp, int64_t Np, float beta, int64_t task) {
  configure_tiles();
  alignas(64) float acc[kBlock * kBlock];
  const int64_t jend = std::min(Np, (task + 1) * kTaskCols);
  const int64_t strideA = Kp * 4, strideB = kPairs * 4;
  for (int64_t i0 = 0; i0 < Mp; i0 += kBlock) {
    const uint32_t* a0 = Ap + i0 * Kp;
    const uint32_t* a1 = a0 + kPairs * Kp;
    for (int64_t j0 = task * kTaskCols; j0 < jend; j0 += kBlock) {
      const uint32_t* b0 = Bp + (j0 / kPairs) * Kp * kPairs;
      const uint32_t* b1 = b0 + Kp * kPairs;
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int64_t q = 0; q < Kp; q += kPairs) {
        _tile_loadd(4, a0 + q, strideA);
        _tile_loadd(5, a1 + q, strideA);
        _tile_loadd(6, b0 + q * kPairs, strideB);
        _tile_loadd(7, b1 + q * kPairs, strideB);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      _tile_stored(0, acc, kBlock * 4);
      _tile_stored(1, acc + 16, kBlock * 4);
      _tile_stored(2, acc + 16 * kBlock, kBlock * 4);
      _tile_stored(3, acc + 16 * kBlock + 16, kBlock * 4);
      store_block(acc, C, N, i0, j0, M, N, beta);
    }
  }
}

bool cpu_reports_amx_bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (d & (1u << 22)) != 0 && (d & (1u << 24)) != 0;  // AMX-BF16, AMX-TILE
}

}  // namespace

bool amx_bf16_ready() {
  static const bool ok = [] {
    const char* env = std::getenv("LLMFORGE_AMX");
    if (env != nullptr && std::strcmp(env, "0") == 0) return false;
    if (best_isa() != Isa::kAvx512 || !cpu_has_avx512bf16() || !cpu_reports_amx_bf16()) return false;
    constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
}

void sgemm_bf16_amx(const GemmArgs& g) {
  const int64_t M = g.M, N = g.N, K = g.K;
  const int64_t Kp = round_up(ceil_div(K, 2), kPairs), Mp = round_up(M, kBlock), Np = round_up(N, kBlock);
  uint32_t* Ap = reinterpret_cast<uint32_t*>(tl_amx_a.get(static_cast<size_t>(Mp * Kp)));
  uint32_t* Bp = reinterpret_cast<uint32_t*>(tl_amx_b.get(static_cast<size_t>(Np * Kp)));
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const float* A = g.A + bi * g.strideA;
    const float* B = g.B + bi * g.strideB;
    float* C = g.C + bi * g.strideC;
    const int64_t ablocks = Mp / kPairs, bpanels = Np / kPairs;
    parallel_for(ablocks + bpanels, 4, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        if (t < ablocks) pack_a_block(A, g.transA, M, K, Kp, t, Ap);
        else pack_b_panel(B, g.transB, N, K, Kp, t - ablocks, Bp);
      }
    });
    parallel_for(ceil_div(Np, kTaskCols), 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) compute_task(Ap, Bp, C, M, N, Kp, Mp, Np, g.beta, t);
    });
  }
}

}  // namespace lf
