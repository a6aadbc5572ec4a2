// AVX2/FMA sgemm (contract in gemm.h), for x86-64 CPUs without AVX-512. The same packed scheme as
// gemm_avx512.cc, kept simpler: op(A) is packed into MR=6 row panels and op(B) into NR=16 column panels per KC
// slice (the packing absorbs transA/transB), and a 6x16 register-blocked micro-kernel (12 ymm accumulators)
// computes full tiles; edge tiles are computed into a small buffer and copied out. Parallelism is over
// independent (batch, M block, N block) tasks from gemm_plan.h. M == 1 or N == 1 runs a matrix-vector loop
// without packing. Compiled with an AVX2/FMA target pragma and only entered after the run-time CPU check.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gemm.h"
#include "gemm_plan.h"
#include "thread_pool.h"

#pragma GCC target("avx2,fma")

namespace lf {
namespace {

using namespace gemm_detail;

constexpr int kMR = 6;                  // micro-tile rows
constexpr int kNR = 16;                 // micro-tile columns (two ymm)
constexpr int64_t kKC = 256;            // K slice: the 16 x KC B panel (16 KiB) lives in L1
constexpr int64_t kMC = 144;            // rows of A per block (144 KiB at KC = 256) live in L2
constexpr int64_t kTasksPerThread = 4;  // tasks per thread when a single matrix is split
constexpr double kInlineFlops = 1.5e6;  // below this, run on the calling thread only

thread_local AlignedBuffer tl_pack_a;
thread_local AlignedBuffer tl_pack_b;

// acc (6 x 16, row stride 16) = A panel (kc x MR) @ B panel (kc x NR), both packed p-major.
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c, int64_t ldc,
                  float beta) {
  __m256 acc0[kMR], acc1[kMR];
  for (int i = 0; i < kMR; ++i) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
    }
    a += kMR;
    b += kNR;
  }
  const __m256 vb = _mm256_set1_ps(beta);
  for (int i = 0; i < kMR; ++i) {
    float* ci = c + i * ldc;
    if (beta != 0.0f) {
      acc0[i] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), acc0[i]);
      acc1[i] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), acc1[i]);
    }
    _mm256_storeu_ps(ci, acc0[i]);
    _mm256_storeu_ps(ci + 8, acc1[i]);
  }
}

// dst[ip * kc * MR + p * MR + i] = op(A)[i0 + ip * MR + i, p0 + p], zero-padded past mlen.
void pack_a(const float* A, bool transA, int64_t M, int64_t K, int64_t i0, int64_t mlen, int64_t p0, int64_t kc,
            float* dst) {
  for (int64_t ip = 0; ip * kMR < mlen; ++ip) {
    const int64_t rows = std::min<int64_t>(kMR, mlen - ip * kMR);
    float* d = dst + ip * kc * kMR;
    const int64_t i = i0 + ip * kMR;
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t r = 0; r < kMR; ++r) {
        d[p * kMR + r] = r >= rows ? 0.0f : transA ? A[(p0 + p) * M + i + r] : A[(i + r) * K + p0 + p];
      }
    }
  }
}

// dst[jp * kc * NR + p * NR + j] = op(B)[p0 + p, j0 + jp * NR + j], zero-padded past nlen.
void pack_b(const float* B, bool transB, int64_t N, int64_t K, int64_t j0, int64_t nlen, int64_t p0, int64_t kc,
            float* dst) {
  for (int64_t jp = 0; jp * kNR < nlen; ++jp) {
    const int64_t cols = std::min<int64_t>(kNR, nlen - jp * kNR);
    float* d = dst + jp * kc * kNR;
    const int64_t j = j0 + jp * kNR;
    if (transB) {
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t c = 0; c < kNR; ++c) d[p * kNR + c] = c < cols ? B[(j + c) * K + p0 + p] : 0.0f;
      }
    } else if (cols == kNR) {
      for (int64_t p = 0; p < kc; ++p) {
        _mm256_store_ps(d + p * kNR, _mm256_loadu_ps(B + (p0 + p) * N + j));
        _mm256_store_ps(d + p * kNR + 8, _mm256_loadu_ps(B + (p0 + p) * N + j + 8));
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t c = 0; c < kNR; ++c) d[p * kNR + c] = c < cols ? B[(p0 + p) * N + j + c] : 0.0f;
      }
    }
  }
}

void gemm_task(const GemmArgs& g, const GemmPlan& plan, int64_t task) {
  const int64_t ng = task % plan.ngroups;
  const int64_t mg = (task / plan.ngroups) % plan.mgroups;
  const int64_t bi = task / (plan.ngroups * plan.mgroups);
  const float* A = g.A + bi * g.strideA;
  const float* B = g.B + bi * g.strideB;
  float* C = g.C + bi * g.strideC;
  const int64_t i0 = mg * plan.mt, mlen = std::min(plan.mt, g.M - i0);
  const int64_t j0 = ng * plan.nt, nlen = std::min(plan.nt, g.N - j0);
  float* pa = tl_pack_a.get(static_cast<size_t>(plan.mc * plan.kc));
  float* pb = tl_pack_b.get(static_cast<size_t>(round_up(nlen, kNR) * plan.kc));
  alignas(32) float edge[kMR * kNR];
  for (int64_t p0 = 0; p0 < g.K; p0 += plan.kc) {
    const int64_t kc = std::min(plan.kc, g.K - p0);
    const float beta = p0 == 0 ? g.beta : 1.0f;
    pack_b(B, g.transB, g.N, g.K, j0, nlen, p0, kc, pb);
    for (int64_t ib = i0; ib < i0 + mlen; ib += plan.mc) {
      const int64_t mb = std::min(plan.mc, i0 + mlen - ib);
      pack_a(A, g.transA, g.M, g.K, ib, mb, p0, kc, pa);
      for (int64_t jp = 0; jp * kNR < nlen; ++jp) {
        const int64_t cols = std::min<int64_t>(kNR, nlen - jp * kNR);
        for (int64_t ip = 0; ip * kMR < mb; ++ip) {
          const int64_t rows = std::min<int64_t>(kMR, mb - ip * kMR);
          float* c = C + (ib + ip * kMR) * g.N + j0 + jp * kNR;
          const float* ap = pa + ip * kc * kMR;
          const float* bp = pb + jp * kc * kNR;
          if (rows == kMR && cols == kNR) {
            micro_kernel(kc, ap, bp, c, g.N, beta);
          } else {  // edge tile: compute into a buffer, then copy the valid part out
            micro_kernel(kc, ap, bp, edge, kNR, 0.0f);
            for (int64_t r = 0; r < rows; ++r) {
              for (int64_t j = 0; j < cols; ++j) {
                c[r * g.N + j] = beta == 0.0f ? edge[r * kNR + j] : edge[r * kNR + j] + beta * c[r * g.N + j];
              }
            }
          }
        }
      }
    }
  }
}

// Matrix-vector for M == 1 or N == 1 (see gemv in gemm_avx512.cc for the operand mapping).
float dot(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 16 <= n; p += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p), _mm256_loadu_ps(b + p), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p + 8), _mm256_loadu_ps(b + p + 8), acc1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_add_ps(acc0, acc1));
  float s = 0.0f;
  for (float v : lanes) s += v;
  for (; p < n; ++p) s += a[p] * b[p];
  return s;
}

void gemv(const GemmArgs& g) {
  const bool m_is_one = g.M == 1;
  const int64_t L = m_is_one ? g.N : g.M;
  const float* W = m_is_one ? g.B : g.A;
  const float* x = m_is_one ? g.A : g.B;
  const int64_t strideW = m_is_one ? g.strideB : g.strideA;
  const int64_t strideX = m_is_one ? g.strideA : g.strideB;
  const bool axpy = L > 1 && (m_is_one ? !g.transB : g.transA);
  const int64_t chunk = axpy ? 256 : 32;
  const int64_t chunks = ceil_div(L, chunk);
  const double flops = 2.0 * static_cast<double>(g.batch) * static_cast<double>(L) * static_cast<double>(g.K);
  const int64_t n = g.batch * chunks;
  parallel_for(n, flops < kInlineFlops ? n : 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t bi = t / chunks, c = t % chunks;
      const int64_t j0 = c * chunk, j1 = std::min(L, j0 + chunk);
      const float* Wb = W + bi * strideW;
      const float* xb = x + bi * strideX;
      float* y = g.C + bi * g.strideC;
      if (axpy) {  // y[j] = sum_p x[p] * W[p, j], W is (K, L)
        alignas(32) float acc[256];
        std::memset(acc, 0, sizeof(acc));
        const int64_t w = j1 - j0;
        for (int64_t p = 0; p < g.K; ++p) {
          const __m256 xp = _mm256_set1_ps(xb[p]);
          const float* row = Wb + p * L + j0;
          int64_t j = 0;
          for (; j + 8 <= w; j += 8) {
            _mm256_store_ps(acc + j, _mm256_fmadd_ps(xp, _mm256_loadu_ps(row + j), _mm256_load_ps(acc + j)));
          }
          for (; j < w; ++j) acc[j] += xb[p] * row[j];
        }
        for (int64_t j = 0; j < w; ++j) y[j0 + j] = acc[j] + (g.beta == 0.0f ? 0.0f : g.beta * y[j0 + j]);
      } else {  // y[j] = dot(W[j, :], x), W is (L, K)
        for (int64_t j = j0; j < j1; ++j) {
          const float s = dot(Wb + j * g.K, xb, g.K);
          y[j] = g.beta == 0.0f ? s : s + g.beta * y[j];
        }
      }
    }
  });
}

}  // namespace

void sgemm_avx2(const GemmArgs& g) {
  if (g.batch == 0 || g.M == 0 || g.N == 0) return;
  if (g.K == 0) {
    sgemm_scalar(g);  // C = beta * C
    return;
  }
  if (g.M == 1 || g.N == 1) {
    gemv(g);
    return;
  }
  const double flops = 2.0 * static_cast<double>(g.batch) * static_cast<double>(g.M) *
                       static_cast<double>(g.N) * static_cast<double>(g.K);
  const int threads = flops < kInlineFlops ? 1 : num_threads();
  const GemmPlan plan = make_plan(g, kMR, kNR, kMC, kKC, threads, kTasksPerThread);
  parallel_for(plan.tasks, threads == 1 ? plan.tasks : 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) gemm_task(g, plan, t);
  });
}

}  // namespace lf
