// Tile building blocks of the fused attention kernels: see attention_tiles.h. Two implementations of each entry:
// a portable scalar one (the reference for the vector code, and the path on CPUs without AVX-512) and an
// AVX-512 one compiled with a function-level target attribute, so one binary runs on any x86-64.
#include "attention_tiles.h"

#include <algorithm>
#include <cmath>
#include <climits>
#include <cstdint>
#include <limits>

#include "cpu.h"

#if defined(__x86_64__)
// GCC 12 flags the intrinsics' internal _mm512_undefined_ps() as uninitialized (a known false positive).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#define LF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#endif

namespace lf {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// ---- scalar -------------------------------------------------------------------------------------------------

void nt_scalar(const float* A, int64_t lda, int64_t na, int64_t D, const float* Bt, int64_t N, float* C) {
  for (int64_t x = 0; x < na; ++x) {
    float* c = C + x * N;
    std::fill(c, c + N, 0.f);
    const float* a = A + x * lda;
    for (int64_t d = 0; d < D; ++d) {
      const float ad = a[d];
      const float* b = Bt + d * N;
      for (int64_t n = 0; n < N; ++n) c[n] += ad * b[n];
    }
  }
}

void acc_scalar(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
                const float* R, int64_t ldr) {
  for (int64_t x = 0; x < X; ++x) {
    float* c = C + x * ldc;
    for (int64_t y = 0; y < Y; ++y) {
      const float w = W[y * ldw + x];
      const float* r = R + y * ldr;
      for (int64_t e = 0; e < D; ++e) c[e] += w * r[e];
    }
  }
}

void acc_rows_scalar(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
                     const float* R, int64_t ldr) {
  for (int64_t x = 0; x < X; ++x) {
    float* c = C + x * ldc;
    for (int64_t y = 0; y < Y; ++y) {
      const float w = W[x * ldw + y];
      const float* r = R + y * ldr;
      for (int64_t e = 0; e < D; ++e) c[e] += w * r[e];
    }
  }
}

void transpose_scalar(const float* A, int64_t lda, int64_t na, int64_t D, float c, float* T, int64_t N) {
  for (int64_t d = 0; d < D; ++d) {
    for (int64_t j = 0; j < N; ++j) T[d * N + j] = j < na ? c * A[j * lda + d] : 0.f;
  }
}

void scale_rows_scalar(float* C, int64_t ldc, int64_t X, int64_t D, const float* alpha) {
  for (int64_t x = 0; x < X; ++x) {
    for (int64_t e = 0; e < D; ++e) C[x * ldc + e] *= alpha[x];
  }
}

void dots_scalar(const float* Q, int64_t ldq, int64_t R, int64_t D, const float* K, int64_t ldk, int64_t nk,
                 float* S, int64_t N) {
  for (int64_t j = 0; j < nk; ++j) {
    for (int64_t r = 0; r < R; ++r) {
      float acc = 0.f;
      for (int64_t d = 0; d < D; ++d) acc += Q[r * ldq + d] * K[j * ldk + d];
      S[j * N + r] = acc;
    }
  }
}

void mask_lanes_rows_scalar(float* S, int64_t nk, int64_t N, int64_t j0, const int32_t* pos, const int32_t* segq,
                            const int32_t* segk) {
  for (int64_t jj = 0; jj < nk; ++jj) {
    const int64_t key = j0 + jj;
    for (int64_t n = 0; n < N; ++n) {
      const bool visible = key <= pos[n] && (segk == nullptr || segk[jj] == segq[n]);
      if (!visible) S[jj * N + n] = kNegInf;
    }
  }
}

void mask_lanes_keys_scalar(float* S, int64_t nr, int64_t N, int64_t nk, int64_t j0, const int32_t* pos,
                            const int32_t* segq, const int32_t* segk) {
  for (int64_t r = 0; r < nr; ++r) {
    for (int64_t n = 0; n < N; ++n) {
      const bool visible = n < nk && j0 + n <= pos[r] && (segk == nullptr || segk[n] == segq[r]);
      if (!visible) S[r * N + n] = kNegInf;
    }
  }
}

void online_update_scalar(float* S, int64_t nk, int64_t N, float* m, float* l, float* alpha) {
  for (int64_t n = 0; n < N; ++n) {
    float mb = kNegInf;
    for (int64_t jj = 0; jj < nk; ++jj) mb = std::max(mb, S[jj * N + n]);
    const float mn = std::max(m[n], mb);
    const float mu = mn == kNegInf ? 0.f : mn;  // keeps exp2 away from -inf - -inf
    alpha[n] = std::exp2(m[n] - mu);
    float sum = 0.f;
    for (int64_t jj = 0; jj < nk; ++jj) {
      const float p = std::exp2(S[jj * N + n] - mu);
      S[jj * N + n] = p;
      sum += p;
    }
    l[n] = l[n] * alpha[n] + sum;
    m[n] = mn;
  }
}

void grad_lanes_rows_scalar(const float* S, float* dP, int64_t nk, int64_t N, const float* lse2, const float* delta) {
  for (int64_t jj = 0; jj < nk; ++jj) {
    for (int64_t n = 0; n < N; ++n) {
      const float p = std::exp2(S[jj * N + n] - lse2[n]);
      dP[jj * N + n] = p * (dP[jj * N + n] - delta[n]);
    }
  }
}

void grad_lanes_keys_scalar(float* S, float* dP, int64_t nr, int64_t N, const float* lse2, const float* delta) {
  for (int64_t r = 0; r < nr; ++r) {
    for (int64_t n = 0; n < N; ++n) {
      const float p = std::exp2(S[r * N + n] - lse2[r]);
      S[r * N + n] = p;
      dP[r * N + n] = p * (dP[r * N + n] - delta[r]);
    }
  }
}

const AttnTileOps kScalarOps = {
    nt_scalar,          acc_scalar,           acc_rows_scalar,        transpose_scalar,       scale_rows_scalar,      dots_scalar,
    mask_lanes_rows_scalar, mask_lanes_keys_scalar, online_update_scalar,
    grad_lanes_rows_scalar, grad_lanes_keys_scalar,
};

// ---- AVX-512 ------------------------------------------------------------------------------------------------
#if defined(__x86_64__)

// 2^x for 16 floats. x is split as n + f with n = round(x), |f| <= 1/2; 2^f is its degree-6 Taylor polynomial
// (truncation error < 1.2e-7 relative, below float rounding after Horner), and 2^n is applied exactly by
// scalef. Inputs below -126 (including -inf) give exactly 0; NaN gives NaN, as std::exp2 does, so a NaN score
// reaches the row's sum and output instead of vanishing (min/max return their second operand when either is NaN).
LF_AVX512 inline __m512 exp2_ps(__m512 x) {
  const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-126.f), _CMP_NLT_UQ);
  x = _mm512_min_ps(_mm512_set1_ps(127.f), x);
  x = _mm512_max_ps(_mm512_set1_ps(-127.f), x);
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(1.5403530393381606e-4f);                 // ln2^6 / 6!
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3333558146428443e-3f));  // ln2^5 / 5!
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6181291076284772e-3f));  // ln2^4 / 4!
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5504108664821580e-2f));  // ln2^3 / 3!
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022650695910071e-1f));  // ln2^2 / 2!
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718055994531e-1f));  // ln2
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f));
  return _mm512_maskz_mov_ps(keep, _mm512_scalef_ps(p, n));
}

LF_AVX512 inline __mmask16 tail_mask(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1u);
}

// R rows of A against NV vectors of Bt: a 4 x 4 register block of accumulators at most.
template <int R, int NV>
LF_AVX512 void nt_block(const float* A, int64_t lda, int64_t D, const float* Bt, int64_t N, float* C) {
  __m512 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t d = 0; d < D; ++d) {
    __m512 b[NV];
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(Bt + d * N + 16 * v);
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + d]);
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + r * N + 16 * v, acc[r][v]);
}

template <int NV>
LF_AVX512 void nt_panel(const float* A, int64_t lda, int64_t na, int64_t D, const float* Bt, int64_t N, float* C) {
  int64_t x = 0;
  for (; x + 4 <= na; x += 4) nt_block<4, NV>(A + x * lda, lda, D, Bt, N, C + x * N);
  switch (na - x) {
    case 3: nt_block<3, NV>(A + x * lda, lda, D, Bt, N, C + x * N); break;
    case 2: nt_block<2, NV>(A + x * lda, lda, D, Bt, N, C + x * N); break;
    case 1: nt_block<1, NV>(A + x * lda, lda, D, Bt, N, C + x * N); break;
    default: break;
  }
}

LF_AVX512 void nt_avx512(const float* A, int64_t lda, int64_t na, int64_t D, const float* Bt, int64_t N,
                         float* C) {
  // Panels of up to 64 lanes; Bt and C are addressed with stride N, so a panel is an offset into both.
  for (int64_t n0 = 0; n0 < N; n0 += 64) {
    const int64_t nv = std::min<int64_t>(4, (N - n0) / 16);
    const float* b = Bt + n0;
    float* c = C + n0;
    switch (nv) {
      case 4: nt_panel<4>(A, lda, na, D, b, N, c); break;
      case 3: nt_panel<3>(A, lda, na, D, b, N, c); break;
      case 2: nt_panel<2>(A, lda, na, D, b, N, c); break;
      default: nt_panel<1>(A, lda, na, D, b, N, c); break;
    }
  }
}

// X rows [x, x + R) of C, NV vectors of columns from e0 (the last one masked by `last`). kRows: the weight of
// row r and step y is W[r*ldw + y] (acc_rows) instead of W[y*ldw + r] (acc).
template <int R, int NV, bool kRows>
LF_AVX512 void acc_block(float* C, int64_t ldc, const float* W, int64_t ldw, int64_t Y, const float* R_,
                         int64_t ldr, __mmask16 last) {
  // The masks are chosen per unrolled v (no mask array): with an array GCC kept the accumulators on the stack,
  // storing all sixteen every step, and this block ran at half the speed of nt_block.
  auto mask = [last](int v) { return v == NV - 1 ? last : static_cast<__mmask16>(0xFFFF); };
  __m512 acc[R][NV];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_maskz_loadu_ps(mask(v), C + r * ldc + 16 * v);
  for (int64_t y = 0; y < Y; ++y) {
    __m512 rv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) rv[v] = _mm512_maskz_loadu_ps(mask(v), R_ + y * ldr + 16 * v);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 w = _mm512_set1_ps(kRows ? W[r * ldw + y] : W[y * ldw + r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(w, rv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(C + r * ldc + 16 * v, mask(v), acc[r][v]);
}

template <int NV, bool kRows>
LF_AVX512 void acc_panel(float* C, int64_t ldc, int64_t X, const float* W, int64_t ldw, int64_t Y, const float* R,
                         int64_t ldr, __mmask16 last) {
  auto w = [&](int64_t x) { return kRows ? W + x * ldw : W + x; };
  int64_t x = 0;
  for (; x + 4 <= X; x += 4) acc_block<4, NV, kRows>(C + x * ldc, ldc, w(x), ldw, Y, R, ldr, last);
  switch (X - x) {
    case 3: acc_block<3, NV, kRows>(C + x * ldc, ldc, w(x), ldw, Y, R, ldr, last); break;
    case 2: acc_block<2, NV, kRows>(C + x * ldc, ldc, w(x), ldw, Y, R, ldr, last); break;
    case 1: acc_block<1, NV, kRows>(C + x * ldc, ldc, w(x), ldw, Y, R, ldr, last); break;
    default: break;
  }
}

template <bool kRows>
LF_AVX512 void acc_any(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
                       const float* R, int64_t ldr) {
  for (int64_t e0 = 0; e0 < D; e0 += 64) {
    const int64_t width = std::min<int64_t>(64, D - e0);
    const int64_t nv = (width + 15) / 16;
    const __mmask16 last = tail_mask(width - 16 * (nv - 1));
    switch (nv) {
      case 4: acc_panel<4, kRows>(C + e0, ldc, X, W, ldw, Y, R + e0, ldr, last); break;
      case 3: acc_panel<3, kRows>(C + e0, ldc, X, W, ldw, Y, R + e0, ldr, last); break;
      case 2: acc_panel<2, kRows>(C + e0, ldc, X, W, ldw, Y, R + e0, ldr, last); break;
      default: acc_panel<1, kRows>(C + e0, ldc, X, W, ldw, Y, R + e0, ldr, last); break;
    }
  }
}

LF_AVX512 void acc_avx512(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
                          const float* R, int64_t ldr) {
  acc_any<false>(C, ldc, X, D, W, ldw, Y, R, ldr);
}

LF_AVX512 void acc_rows_avx512(float* C, int64_t ldc, int64_t X, int64_t D, const float* W, int64_t ldw, int64_t Y,
                               const float* R, int64_t ldr) {
  acc_any<true>(C, ldc, X, D, W, ldw, Y, R, ldr);
}

// One gather per 16 lanes of a row of T (the source rows are a stride apart, often one page each).
LF_AVX512 void transpose_avx512(const float* A, int64_t lda, int64_t na, int64_t D, float c, float* T, int64_t N) {
  const __m512 cv = _mm512_set1_ps(c);
  for (int64_t j0 = 0; j0 < N; j0 += 16) {
    const __mmask16 m = j0 < na ? tail_mask(na - j0) : static_cast<__mmask16>(0);
    if (lda * 15 > INT32_MAX / 4) {  // offsets would overflow the 32-bit gather indices
      for (int64_t d = 0; d < D; ++d)
        for (int64_t j = j0; j < j0 + 16; ++j) T[d * N + j] = j < na ? c * A[j * lda + d] : 0.f;
      continue;
    }
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(static_cast<int32_t>(lda)));
    const float* a = A + j0 * lda;
    for (int64_t d = 0; d < D; ++d) {
      const __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, a + d, 4);
      _mm512_storeu_ps(T + d * N + j0, _mm512_mul_ps(cv, x));
    }
  }
}

LF_AVX512 void scale_rows_avx512(float* C, int64_t ldc, int64_t X, int64_t D, const float* alpha) {
  for (int64_t x = 0; x < X; ++x) {
    if (alpha[x] == 1.f) continue;
    const __m512 a = _mm512_set1_ps(alpha[x]);
    float* c = C + x * ldc;
    for (int64_t e = 0; e < D; e += 16) {
      const __mmask16 m = tail_mask(D - e);
      _mm512_mask_storeu_ps(c + e, m, _mm512_mul_ps(a, _mm512_maskz_loadu_ps(m, c + e)));
    }
  }
}

// KJ keys against R query rows: R * KJ independent FMA chains over D, each reduced at the end.
template <int R, int KJ>
LF_AVX512 void dots_block(const float* Q, int64_t ldq, int64_t D, const float* K, int64_t ldk, float* S, int64_t N) {
  __m512 acc[KJ][R];
  for (int j = 0; j < KJ; ++j)
    for (int r = 0; r < R; ++r) acc[j][r] = _mm512_setzero_ps();
  for (int64_t d = 0; d < D; d += 16) {
    const __mmask16 m = tail_mask(D - d);
    __m512 qv[R];
    for (int r = 0; r < R; ++r) qv[r] = _mm512_maskz_loadu_ps(m, Q + r * ldq + d);
    for (int j = 0; j < KJ; ++j) {
      const __m512 kv = _mm512_maskz_loadu_ps(m, K + j * ldk + d);
      for (int r = 0; r < R; ++r) acc[j][r] = _mm512_fmadd_ps(qv[r], kv, acc[j][r]);
    }
  }
  for (int j = 0; j < KJ; ++j)
    for (int r = 0; r < R; ++r) S[j * N + r] = _mm512_reduce_add_ps(acc[j][r]);
}

template <int R>
LF_AVX512 void dots_rows(const float* Q, int64_t ldq, int64_t D, const float* K, int64_t ldk, int64_t nk, float* S,
                         int64_t N) {
  constexpr int KJ = 8 / R;  // about eight accumulators in flight
  int64_t j = 0;
  for (; j + KJ <= nk; j += KJ) dots_block<R, KJ>(Q, ldq, D, K + j * ldk, ldk, S + j * N, N);
  for (; j < nk; ++j) dots_block<R, 1>(Q, ldq, D, K + j * ldk, ldk, S + j * N, N);
}

LF_AVX512 void dots_avx512(const float* Q, int64_t ldq, int64_t R, int64_t D, const float* K, int64_t ldk,
                           int64_t nk, float* S, int64_t N) {
  switch (R) {
    case 4: dots_rows<4>(Q, ldq, D, K, ldk, nk, S, N); break;
    case 3: dots_rows<3>(Q, ldq, D, K, ldk, nk, S, N); break;
    case 2: dots_rows<2>(Q, ldq, D, K, ldk, nk, S, N); break;
    case 1: dots_rows<1>(Q, ldq, D, K, ldk, nk, S, N); break;
    default: dots_scalar(Q, ldq, R, D, K, ldk, nk, S, N); break;
  }
}

LF_AVX512 void mask_lanes_rows_avx512(float* S, int64_t nk, int64_t N, int64_t j0, const int32_t* pos,
                                      const int32_t* segq, const int32_t* segk) {
  const __m512 ninf = _mm512_set1_ps(kNegInf);
  for (int64_t jj = 0; jj < nk; ++jj) {
    const __m512i key = _mm512_set1_epi32(static_cast<int32_t>(j0 + jj));
    for (int64_t n = 0; n < N; n += 16) {
      __mmask16 visible = _mm512_cmple_epi32_mask(key, _mm512_loadu_si512(pos + n));
      if (segk != nullptr) {
        visible &= _mm512_cmpeq_epi32_mask(_mm512_set1_epi32(segk[jj]), _mm512_loadu_si512(segq + n));
      }
      float* s = S + jj * N + n;
      _mm512_storeu_ps(s, _mm512_mask_mov_ps(ninf, visible, _mm512_loadu_ps(s)));
    }
  }
}

LF_AVX512 void mask_lanes_keys_avx512(float* S, int64_t nr, int64_t N, int64_t nk, int64_t j0, const int32_t* pos,
                                      const int32_t* segq, const int32_t* segk) {
  const __m512 ninf = _mm512_set1_ps(kNegInf);
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t r = 0; r < nr; ++r) {
    const __m512i p = _mm512_set1_epi32(pos[r]);
    for (int64_t n = 0; n < N; n += 16) {
      const __mmask16 valid = n < nk ? tail_mask(nk - n) : static_cast<__mmask16>(0);
      const __m512i key = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(j0 + n)), iota);
      __mmask16 visible = valid & _mm512_cmple_epi32_mask(key, p);
      if (segk != nullptr) {
        visible &= _mm512_cmpeq_epi32_mask(_mm512_maskz_loadu_epi32(valid, segk + n), _mm512_set1_epi32(segq[r]));
      }
      float* s = S + r * N + n;
      _mm512_storeu_ps(s, _mm512_mask_mov_ps(ninf, visible, _mm512_loadu_ps(s)));
    }
  }
}

LF_AVX512 void online_update_avx512(float* S, int64_t nk, int64_t N, float* m, float* l, float* alpha) {
  const __m512 ninf = _mm512_set1_ps(kNegInf);
  for (int64_t n = 0; n < N; n += 16) {
    const __m512 mold = _mm512_loadu_ps(m + n);
    __m512 mb = ninf;
    for (int64_t jj = 0; jj < nk; ++jj) mb = _mm512_max_ps(mb, _mm512_loadu_ps(S + jj * N + n));
    const __m512 mn = _mm512_max_ps(mold, mb);
    // Rows that have seen no key yet shift by 0, keeping exp2 away from -inf - -inf.
    const __mmask16 dead = _mm512_cmp_ps_mask(mn, ninf, _CMP_EQ_OQ);
    const __m512 mu = _mm512_mask_mov_ps(mn, dead, _mm512_setzero_ps());
    const __m512 a = exp2_ps(_mm512_sub_ps(mold, mu));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t jj = 0; jj < nk; ++jj) {
      float* s = S + jj * N + n;
      const __m512 p = exp2_ps(_mm512_sub_ps(_mm512_loadu_ps(s), mu));
      _mm512_storeu_ps(s, p);
      sum = _mm512_add_ps(sum, p);
    }
    _mm512_storeu_ps(l + n, _mm512_fmadd_ps(_mm512_loadu_ps(l + n), a, sum));
    _mm512_storeu_ps(m + n, mn);
    _mm512_storeu_ps(alpha + n, a);
  }
}

LF_AVX512 void grad_lanes_rows_avx512(const float* S, float* dP, int64_t nk, int64_t N, const float* lse2,
                                      const float* delta) {
  for (int64_t n = 0; n < N; n += 16) {
    const __m512 l2 = _mm512_loadu_ps(lse2 + n);
    const __m512 dl = _mm512_loadu_ps(delta + n);
    for (int64_t jj = 0; jj < nk; ++jj) {
      const __m512 p = exp2_ps(_mm512_sub_ps(_mm512_loadu_ps(S + jj * N + n), l2));
      float* dp = dP + jj * N + n;
      _mm512_storeu_ps(dp, _mm512_mul_ps(p, _mm512_sub_ps(_mm512_loadu_ps(dp), dl)));
    }
  }
}

LF_AVX512 void grad_lanes_keys_avx512(float* S, float* dP, int64_t nr, int64_t N, const float* lse2,
                                      const float* delta) {
  for (int64_t r = 0; r < nr; ++r) {
    const __m512 l2 = _mm512_set1_ps(lse2[r]);
    const __m512 dl = _mm512_set1_ps(delta[r]);
    for (int64_t n = 0; n < N; n += 16) {
      float* s = S + r * N + n;
      float* dp = dP + r * N + n;
      const __m512 p = exp2_ps(_mm512_sub_ps(_mm512_loadu_ps(s), l2));
      _mm512_storeu_ps(s, p);
      _mm512_storeu_ps(dp, _mm512_mul_ps(p, _mm512_sub_ps(_mm512_loadu_ps(dp), dl)));
    }
  }
}

const AttnTileOps kAvx512Ops = {
    nt_avx512,          acc_avx512,           acc_rows_avx512,        transpose_avx512,       scale_rows_avx512,      dots_avx512,
    mask_lanes_rows_avx512, mask_lanes_keys_avx512, online_update_avx512,
    grad_lanes_rows_avx512, grad_lanes_keys_avx512,
};

#endif  // __x86_64__

}  // namespace

const AttnTileOps& attn_tile_ops() {
#if defined(__x86_64__)
  if (best_isa() == Isa::kAvx512) return kAvx512Ops;
#endif
  return kScalarOps;
}

}  // namespace lf
