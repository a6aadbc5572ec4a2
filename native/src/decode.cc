// Batch-1 decoding kernels: see decode.h. The fp32 GEMVs call sgemm exactly as `linear` does (bias copied into
// the output, then beta = 1), layer norm, GELU and attention call the same kernels as their ops, so the fp32
// block reproduces the op-by-op forward. The bf16 GEMV widens each weight to fp32 in registers (a 16-bit shift)
// and multiplies it with the fp32 activations: weight-only rounding, fp32 sums. Rows are split over the thread
// pool in chunks, like the small-M path of sgemm.
#include "decode.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "attention.h"
#include "cpu.h"
#include "gemm.h"
#include "ops.h"
#include "thread_pool.h"

namespace lf {
namespace {

constexpr int64_t kRowChunk = 64;       // weight rows per task
constexpr double kInlineBytes = 2.5e5;  // below this many weight bytes the GEMV runs on the calling thread only

inline float bf16_to_f32(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Rows [j0, j1) of y = bias + W x, W bf16 (N, K): the scalar reference.
void gemv_bf16_rows_scalar(const uint16_t* W, const float* bias, const float* x, float* y, int64_t K, int64_t j0,
                           int64_t j1) {
  for (int64_t j = j0; j < j1; ++j) {
    const uint16_t* w = W + j * K;
    float s = 0.0f;
    for (int64_t p = 0; p < K; ++p) s += bf16_to_f32(w[p]) * x[p];
    y[j] = bias ? bias[j] + s : s;
  }
}

#define LF_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))

LF_AVX512_TARGET inline __m512 widen_bf16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Rows [j0, j1) of y = bias + W x, W bf16 (N, K): 8 rows per pass (8 independent accumulators and 8 streams).
LF_AVX512_TARGET void gemv_bf16_rows_avx512(const uint16_t* W, const float* bias, const float* x, float* y,
                                            int64_t K, int64_t j0, int64_t j1) {
  constexpr int J = 8;
  for (int64_t j = j0; j < j1; j += J) {
    const int nj = static_cast<int>(std::min<int64_t>(J, j1 - j));
    const uint16_t* w[J];
    for (int q = 0; q < J; ++q) w[q] = W + (j + std::min(q, nj - 1)) * K;  // tail rows repeat the last
    __m512 acc[J];
    for (int q = 0; q < J; ++q) acc[q] = _mm512_setzero_ps();
    int64_t p = 0;
    for (; p + 16 <= K; p += 16) {
      const __m512 xv = _mm512_loadu_ps(x + p);
      for (int q = 0; q < J; ++q) {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[q] + p));
        acc[q] = _mm512_fmadd_ps(xv, widen_bf16(h), acc[q]);
      }
    }
    if (p < K) {
      const __mmask16 m = static_cast<__mmask16>((1u << (K - p)) - 1u);
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + p);
      for (int q = 0; q < J; ++q) {
        const __m256i h = _mm256_maskz_loadu_epi16(m, w[q] + p);
        acc[q] = _mm512_fmadd_ps(xv, widen_bf16(h), acc[q]);
      }
    }
    for (int q = 0; q < nj; ++q) {
      const float s = _mm512_reduce_add_ps(acc[q]);
      y[j + q] = bias ? bias[j + q] + s : s;
    }
  }
}

void gemv_bf16(const uint16_t* W, const float* bias, const float* x, float* y, int64_t N, int64_t K) {
  const bool avx512 = best_isa() == Isa::kAvx512;
  const int64_t chunks = (N + kRowChunk - 1) / kRowChunk;
  const double bytes = 2.0 * static_cast<double>(N) * static_cast<double>(K);
  parallel_for(chunks, bytes < kInlineBytes ? chunks : 1, [&](int64_t begin, int64_t end) {
    const int64_t j0 = begin * kRowChunk, j1 = std::min(N, end * kRowChunk);
    if (avx512) {
      gemv_bf16_rows_avx512(W, bias, x, y, K, j0, j1);
    } else {
      gemv_bf16_rows_scalar(W, bias, x, y, K, j0, j1);
    }
  });
}

// Per-thread scratch, grown on demand and reused across calls (no allocation per token).
struct Scratch {
  std::vector<float> buf;
  float* get(size_t n) {
    if (buf.size() < n) buf.resize(n);
    return buf.data();
  }
};
thread_local Scratch tl_scratch;

}  // namespace

void decode_gemv(const DecodeWeight& W, const float* bias, const float* x, float* y, int64_t N, int64_t K) {
  if (W.bf16) {
    gemv_bf16(static_cast<const uint16_t*>(W.data), bias, x, y, N, K);
    return;
  }
  // Same call as `linear`: y = bias, then y = x W^T + 1 * y.
  if (bias) {
    std::memcpy(y, bias, static_cast<size_t>(N) * sizeof(float));
  } else {
    std::memset(y, 0, static_cast<size_t>(N) * sizeof(float));
  }
  GemmArgs g{};
  g.A = x;
  g.B = static_cast<const float*>(W.data);
  g.C = y;
  g.batch = 1;
  g.M = 1;
  g.N = N;
  g.K = K;
  g.transA = false;
  g.transB = true;
  g.strideA = 0;
  g.strideB = 0;
  g.strideC = 1;
  g.beta = 1.0f;
  sgemm(g);
}

void gpt_decode_block(float* x, const GptBlockWeights& w, float* k_cache, float* v_cache, int64_t pos, int64_t C,
                      int64_t H, int64_t F, float eps) {
  const int64_t D = C / H;
  // Scratch: h (C), qkv (3C), att (C), y (C), mlp (F), mean, rstd, lse (H).
  float* h = tl_scratch.get(static_cast<size_t>(6 * C + F + 2 + H));
  float* qkv = h + C;
  float* att = qkv + 3 * C;
  float* y = att + C;
  float* mlp = y + C;
  float* stats = mlp + F;
  float* lse = stats + 2;

  layernorm_forward(x, w.ln1_w, w.ln1_b, h, stats, stats + 1, 1, C, eps);
  decode_gemv(w.attn, w.attn_b, h, qkv, 3 * C, C);
  std::memcpy(k_cache + pos * C, qkv + C, static_cast<size_t>(C) * sizeof(float));
  std::memcpy(v_cache + pos * C, qkv + 2 * C, static_cast<size_t>(C) * sizeof(float));
  AttnShape s{};
  s.B = 1;
  s.Tq = 1;
  s.Tk = pos + 1;
  s.Hq = H;
  s.Hkv = H;
  s.D = D;
  s.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  s.causal = true;
  s.qOffset = pos;
  s.segQ = nullptr;
  s.segK = nullptr;
  attention_forward(s, qkv, k_cache, v_cache, att, lse);
  decode_gemv(w.attn_proj, w.attn_proj_b, att, y, C, C);
  for (int64_t i = 0; i < C; ++i) x[i] += y[i];

  layernorm_forward(x, w.ln2_w, w.ln2_b, h, stats, stats + 1, 1, C, eps);
  decode_gemv(w.fc, w.fc_b, h, mlp, F, C);
  unary_forward(UnaryOp::kGeluTanh, mlp, mlp, F);
  decode_gemv(w.mlp_proj, w.mlp_proj_b, mlp, y, C, F);
  for (int64_t i = 0; i < C; ++i) x[i] += y[i];
}

void gpt_decode_head(const float* x, const float* ln_w, const float* ln_b, float eps, const DecodeWeight& W,
                     float* logits, int64_t V, int64_t C) {
  float* h = tl_scratch.get(static_cast<size_t>(C + 2));
  layernorm_forward(x, ln_w, ln_b, h, h + C, h + C + 1, 1, C, eps);
  decode_gemv(W, nullptr, h, logits, V, C);
}

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      uint32_t u;
      std::memcpy(&u, &src[i], 4);
      if ((u & 0x7fffffffu) > 0x7f800000u) {
        dst[i] = static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
      } else {
        dst[i] = static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
      }
    }
  });
}

}  // namespace lf
