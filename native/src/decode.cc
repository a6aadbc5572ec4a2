// Batch-1 decoding kernels: see decode.h. The fp32 GEMVs call sgemm exactly as `linear` does (bias copied into
// the output, then beta = 1) on row ranges, and the norms, activations, RoPE and attention call the same kernels
// as their ops, so the fp32 blocks reproduce the op-by-op forward bit for bit. bf16 GEMVs, with AVX512_BF16: the
// activations are split into two bfloat16 parts (hi + lo, ~16 mantissa bits together) and vdpbf16ps multiplies 32
// weights per instruction against each, summing in fp32, so only the weights are effectively rounded; without AVX512_BF16 the
// weights are widened to fp32 in registers (AVX-512) or one by one (scalar reference). A block's stages (norm,
// GEMV row chunks, attention, ...) run as one pool job with stage barriers (run_stages), so the second core
// wakes once per block instead of once per GEMV.
#include "decode.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "attention.h"
#include "cpu.h"
#include "gemm.h"
#include "ops.h"
#include "thread_pool.h"

namespace lf {
namespace {

constexpr int64_t kRowChunk = 64;       // weight rows per task (at most; see chunk_rows)
constexpr int64_t kChunkBytes = 96 << 10;  // weight bytes per task: a few microseconds of streaming

// Rows per task for a weight of K columns: about kChunkBytes, a multiple of 16 in [16, kRowChunk]. Short tasks keep
// the wait at a stage barrier short (T3's 3072-wide rows would make 64-row tasks ~50 us each).
int64_t chunk_rows(const DecodeWeight& W, int64_t K) {
  const int64_t rows = kChunkBytes / (std::max<int64_t>(K, 1) * (W.bf16 ? 2 : 4)) / 16 * 16;
  return std::min(kRowChunk, std::max<int64_t>(16, rows));
}
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

#define LF_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx512bf16")))

// x (K) as two bfloat16 vectors hi + lo (hi = bf16(x), lo = bf16(x - hi)), zero-padded to a multiple of 32: their
// sum carries ~16 bits of x's mantissa, so products with bf16 weights lose almost nothing to x's rounding.
LF_BF16_TARGET void split_bf16(const float* x, int64_t K, uint16_t* hi, uint16_t* lo) {
  for (int64_t p = 0, v = 0; p < K; p += 32, ++v) {
    const __mmask16 m0 = static_cast<__mmask16>(K - p >= 16 ? 0xffff : (1u << (K - p)) - 1u);
    const __mmask16 m1 = static_cast<__mmask16>(K - p >= 32 ? 0xffff : K - p <= 16 ? 0 : (1u << (K - p - 16)) - 1u);
    const __m512 x0 = _mm512_maskz_loadu_ps(m0, x + p), x1 = _mm512_maskz_loadu_ps(m1, x + p + 16);
    const __m512bh h = _mm512_cvtne2ps_pbh(x1, x0);  // elements 0..15 from x0, 16..31 from x1
    const __m512i hb = reinterpret_cast<__m512i>(h);
    // Widen hi back to fp32: even elements (low 16 bits of each lane) and odd ones, then subtract per half.
    const __m512 h0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(hb)), 16));
    const __m512 h1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(hb, 1)), 16));
    _mm512_storeu_si512(hi + 32 * v, hb);
    _mm512_storeu_si512(lo + 32 * v, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(_mm512_sub_ps(x1, h1), _mm512_sub_ps(x0, h0))));
  }
}

// Rows [j0, j1) of y = bias + W x with W bf16 (N, K) and x given as split_bf16's hi + lo: vdpbf16ps multiplies
// 32 weights per instruction (pairs of K summed in fp32), twice (hi and lo); 8 rows per pass.
LF_BF16_TARGET void gemv_bf16_rows_dp(const uint16_t* W, const float* bias, const uint16_t* hi, const uint16_t* lo,
                                      float* y, int64_t K, int64_t j0, int64_t j1) {
  constexpr int J = 8;
  const int64_t full = K / 32;
  const __mmask32 tail = static_cast<__mmask32>(K % 32 == 0 ? 0 : (1ull << (K % 32)) - 1ull);
  for (int64_t j = j0; j < j1; j += J) {
    const int nj = static_cast<int>(std::min<int64_t>(J, j1 - j));
    const uint16_t* w[J];
    for (int q = 0; q < J; ++q) w[q] = W + (j + std::min(q, nj - 1)) * K;
    __m512 acc[J];
    for (int q = 0; q < J; ++q) acc[q] = _mm512_setzero_ps();
    const char* ahead = reinterpret_cast<const char*>(W + std::min(j + J, j1 - 1) * K);  // the next 8 rows
    const int64_t ahead_bytes = std::max<int64_t>(0, std::min<int64_t>(J, j1 - 1 - j - J + 1)) * K * 2;
    for (int64_t v = 0; v < full; ++v) {
      for (int64_t b = v * J * 64; b < (v + 1) * J * 64 && b < ahead_bytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      for (int q = 0; q < J; ++q) {
        const __m512bh wv = reinterpret_cast<__m512bh>(_mm512_loadu_si512(w[q] + v * 32));
        acc[q] = _mm512_dpbf16_ps(acc[q], wv, reinterpret_cast<__m512bh>(_mm512_loadu_si512(hi + 32 * v)));
        acc[q] = _mm512_dpbf16_ps(acc[q], wv, reinterpret_cast<__m512bh>(_mm512_loadu_si512(lo + 32 * v)));
      }
    }
    if (tail) {
      for (int q = 0; q < J; ++q) {
        const __m512bh wv = reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(tail, w[q] + full * 32));
        acc[q] = _mm512_dpbf16_ps(acc[q], wv, reinterpret_cast<__m512bh>(_mm512_loadu_si512(hi + 32 * full)));
        acc[q] = _mm512_dpbf16_ps(acc[q], wv, reinterpret_cast<__m512bh>(_mm512_loadu_si512(lo + 32 * full)));
      }
    }
    for (int q = 0; q < nj; ++q) {
      const float s = _mm512_reduce_add_ps(acc[q]);
      y[j + q] = bias ? bias[j + q] + s : s;
    }
  }
}

thread_local std::vector<uint16_t> tl_xsplit;

// f32_to_bf16 on 16 elements at a time, the same integer rounding as the scalar loop (nearest even, NaN kept
// quiet); returns where it stopped (the scalar loop does the last < 16).
LF_AVX512_TARGET int64_t f32_to_bf16_avx512(const float* src, uint16_t* dst, int64_t begin, int64_t end) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    const __m512i u = _mm512_loadu_si512(src + i);
    const __m512i hi = _mm512_srli_epi32(u, 16);
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, bias), _mm512_and_si512(hi, one)), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
    const __m512i r = _mm512_mask_or_epi32(rounded, nan, hi, quiet);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtepi32_epi16(r));
  }
  return i;
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

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Pauses (~15 ns each here) a thread spins waiting for a stage's last chunks before it sleeps in short naps: the
// chunk's owner was descheduled (another process took its core), and yielding would not reliably let it run
// when both threads share one core.
constexpr int kSpinPauses = 4096;

// One step of a staged run: `chunks` independent pieces of work, fn(c) for c < chunks.
struct Stage {
  int64_t chunks;
  std::function<void(int64_t)> fn;
};
constexpr int kMaxStages = 8;

// Runs the stages in order over the thread pool in ONE pool job: every thread that joins claims chunks of the
// current stage from its counter, then waits (spinning briefly, then napping) until all of that stage's chunks
// are finished before it moves to the next. The calling thread alone can finish everything, so a worker that
// wakes late only joins the remaining stages. A block step is then one wake-up instead of one per GEMV. Kernels
// called from a chunk that use parallel_for themselves run inline (see thread_pool.h).
void run_stages(const Stage* stages, int count) {
  std::atomic<int64_t> next[kMaxStages];
  std::atomic<int64_t> done[kMaxStages];
  for (int i = 0; i < count; ++i) {
    next[i].store(0, std::memory_order_relaxed);
    done[i].store(0, std::memory_order_relaxed);
  }
  auto participate = [&] {
    for (int i = 0; i < count; ++i) {
      const int64_t n = stages[i].chunks;
      for (;;) {
        const int64_t c = next[i].fetch_add(1, std::memory_order_relaxed);
        if (c >= n) break;
        stages[i].fn(c);
        done[i].fetch_add(1, std::memory_order_release);
      }
      for (int spins = 0; done[i].load(std::memory_order_acquire) < n; ++spins) {
        if (spins < kSpinPauses) {
          cpu_relax();
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
      }
    }
  };
  const int threads = num_threads();
  if (threads == 1) {
    participate();
    return;
  }
  parallel_for(threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) participate();
  });
}

// Rows [j0, j1) of y = bias + W x on the calling thread. fp32 makes the same sgemm call as `linear` restricted
// to those rows (each output is computed the same way, so the bits match the whole-matrix call).
void gemv_rows(const DecodeWeight& W, const float* bias, const float* x, float* y, int64_t K, int64_t j0, int64_t j1) {
  if (W.bf16) {
    const auto* w = static_cast<const uint16_t*>(W.data);
    if (best_isa() == Isa::kAvx512 && cpu_has_avx512bf16()) {
      const int64_t nv = (K + 31) / 32;
      if (static_cast<int64_t>(tl_xsplit.size()) < 64 * nv) tl_xsplit.resize(static_cast<size_t>(64 * nv));
      split_bf16(x, K, tl_xsplit.data(), tl_xsplit.data() + 32 * nv);
      gemv_bf16_rows_dp(w, bias, tl_xsplit.data(), tl_xsplit.data() + 32 * nv, y, K, j0, j1);
    } else if (best_isa() == Isa::kAvx512) {
      gemv_bf16_rows_avx512(w, bias, x, y, K, j0, j1);
    } else {
      gemv_bf16_rows_scalar(w, bias, x, y, K, j0, j1);
    }
    return;
  }
  const int64_t n = j1 - j0;
  if (bias) {
    std::memcpy(y + j0, bias + j0, static_cast<size_t>(n) * sizeof(float));
  } else {
    std::memset(y + j0, 0, static_cast<size_t>(n) * sizeof(float));
  }
  GemmArgs g{};
  g.A = x;
  g.B = static_cast<const float*>(W.data) + j0 * K;
  g.C = y + j0;
  g.batch = 1;
  g.M = 1;
  g.N = n;
  g.K = K;
  g.transA = false;
  g.transB = true;
  g.strideA = 0;
  g.strideB = 0;
  g.strideC = 1;
  g.beta = 1.0f;
  sgemm(g);
}

// A stage computing y = bias + W x, N rows in chunks of chunk_rows.
Stage gemv_stage(const DecodeWeight& W, const float* bias, const float* x, float* y, int64_t N, int64_t K) {
  const int64_t r = chunk_rows(W, K);
  return Stage{(N + r - 1) / r, [=, &W](int64_t c) { gemv_rows(W, bias, x, y, K, c * r, std::min(N, (c + 1) * r)); }};
}

Stage single(std::function<void(int64_t)> fn) { return Stage{1, std::move(fn)}; }

// Independent stages run as one (their chunks one after the other), saving the barriers between them.
template <size_t N>
Stage merged(std::array<Stage, N> parts) {
  int64_t total = 0;
  for (const Stage& p : parts) total += p.chunks;
  return Stage{total, [parts = std::move(parts)](int64_t c) {
                 for (const Stage& p : parts) {
                   if (c < p.chunks) return p.fn(c);
                   c -= p.chunks;
                 }
               }};
}

// Causal attention of the one query at position pos over the cached keys 0..pos (dense (capacity, Hkv, D) rows),
// with the scale the attention op defaults to.
AttnShape decode_attn_shape(int64_t pos, int64_t H, int64_t Hkv, int64_t D) {
  AttnShape s{};
  s.B = 1;
  s.Tq = 1;
  s.Tk = pos + 1;
  s.Hq = H;
  s.Hkv = Hkv;
  s.D = D;
  s.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  s.causal = true;
  s.qOffset = pos;
  s.segQ = nullptr;
  s.segK = nullptr;
  return s;
}

void add_into(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

// logits (V) = W norm(x): `norm` writes the normalized x (C) into its argument, which has room for C + 2 floats.
void decode_head(const std::function<void(float*)>& norm, const DecodeWeight& W, float* logits, int64_t V,
                 int64_t C) {
  float* h = tl_scratch.get(static_cast<size_t>(C + 2));
  const Stage stages[] = {
      single([&](int64_t) { norm(h); }),
      gemv_stage(W, nullptr, h, logits, V, C),
  };
  run_stages(stages, 2);
}

}  // namespace

void decode_gemv(const DecodeWeight& W, const float* bias, const float* x, float* y, int64_t N, int64_t K) {
  const double bytes = (W.bf16 ? 2.0 : 4.0) * static_cast<double>(N) * static_cast<double>(K);
  const int64_t chunks = (N + kRowChunk - 1) / kRowChunk;
  parallel_for(chunks, bytes < kInlineBytes ? chunks : 1, [&](int64_t b, int64_t e) {
    gemv_rows(W, bias, x, y, K, b * kRowChunk, std::min(N, e * kRowChunk));
  });
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
  const AttnShape s = decode_attn_shape(pos, H, H, D);

  const int64_t fc_rows = chunk_rows(w.fc, C);  // a multiple of 16: GELU spans start on vector boundaries
  const Stage stages[] = {
      single([&](int64_t) { layernorm_forward(x, w.ln1_w, w.ln1_b, h, stats, stats + 1, 1, C, eps); }),
      gemv_stage(w.attn, w.attn_b, h, qkv, 3 * C, C),
      single([&](int64_t) {
        std::memcpy(k_cache + pos * C, qkv + C, static_cast<size_t>(C) * sizeof(float));
        std::memcpy(v_cache + pos * C, qkv + 2 * C, static_cast<size_t>(C) * sizeof(float));
        attention_forward(s, qkv, k_cache, v_cache, att, lse);
      }),
      gemv_stage(w.attn_proj, w.attn_proj_b, att, y, C, C),
      single([&](int64_t) {
        add_into(x, y, C);
        layernorm_forward(x, w.ln2_w, w.ln2_b, h, stats, stats + 1, 1, C, eps);
      }),
      Stage{(F + fc_rows - 1) / fc_rows, [&](int64_t c) {
              const int64_t j0 = c * fc_rows, j1 = std::min(F, j0 + fc_rows);
              gemv_rows(w.fc, w.fc_b, h, mlp, C, j0, j1);
              unary_forward(UnaryOp::kGeluTanh, mlp + j0, mlp + j0, j1 - j0);
            }},
      gemv_stage(w.mlp_proj, w.mlp_proj_b, mlp, y, C, F),
      single([&](int64_t) { add_into(x, y, C); }),
  };
  run_stages(stages, 8);
}

void gpt_decode_head(const float* x, const float* ln_w, const float* ln_b, float eps, const DecodeWeight& W,
                     float* logits, int64_t V, int64_t C) {
  decode_head([&](float* h) { layernorm_forward(x, ln_w, ln_b, h, h + C, h + C + 1, 1, C, eps); }, W, logits, V, C);
}

void llama_decode_block(float* x, const LlamaBlockWeights& w, const LlamaBlockShape& s, const float* cos,
                        const float* sin, float* k_cache, float* v_cache, int64_t pos) {
  const int64_t C = s.C, H = s.H, Hkv = s.Hkv, D = s.D, F = s.F, Q = H * D, KV = Hkv * D;
  // Scratch: h (C), q and rotated q (Q each), k (KV), att (Q), y (C), gate and up (F each), rstd, lse (H).
  float* h = tl_scratch.get(static_cast<size_t>(2 * C + 3 * Q + KV + 2 * F + 1 + H));
  float* q = h + C;
  float* q_rot = q + Q;
  float* k = q_rot + Q;
  float* att = k + KV;
  float* y = att + Q;
  float* gate = y + C;
  float* up = gate + F;
  float* rstd = up + F;
  float* lse = rstd + 1;
  float* k_row = k_cache + pos * KV;  // the rotated key goes straight into the cache, the value too
  float* v_row = v_cache + pos * KV;
  const AttnShape a = decode_attn_shape(pos, H, Hkv, D);

  const int64_t ff_rows = chunk_rows(w.gate, C);  // a multiple of 16: SiLU spans start on vector boundaries
  const Stage stages[] = {
      single([&](int64_t) { rmsnorm_forward(x, w.ln1_w, h, rstd, 1, C, s.eps); }),
      merged(std::array<Stage, 3>{gemv_stage(w.q, w.q_b, h, q, Q, C), gemv_stage(w.k, w.k_b, h, k, KV, C),
                                  gemv_stage(w.v, w.v_b, h, v_row, KV, C)}),
      single([&](int64_t) {
        rope_forward(q, q_rot, cos, sin, 1, 1, H, D, false);
        rope_forward(k, k_row, cos, sin, 1, 1, Hkv, D, false);
        attention_forward(a, q_rot, k_cache, v_cache, att, lse);
      }),
      gemv_stage(w.o, w.o_b, att, y, C, Q),
      single([&](int64_t) {
        add_into(x, y, C);
        rmsnorm_forward(x, w.ln2_w, h, rstd, 1, C, s.eps);
      }),
      Stage{(F + ff_rows - 1) / ff_rows, [&](int64_t c) {
              const int64_t j0 = c * ff_rows, j1 = std::min(F, j0 + ff_rows);
              gemv_rows(w.gate, w.gate_b, h, gate, C, j0, j1);
              unary_forward(UnaryOp::kSilu, gate + j0, gate + j0, j1 - j0);
              gemv_rows(w.up, w.up_b, h, up, C, j0, j1);
              for (int64_t j = j0; j < j1; ++j) gate[j] *= up[j];
            }},
      gemv_stage(w.down, w.down_b, gate, y, C, F),
      single([&](int64_t) { add_into(x, y, C); }),
  };
  run_stages(stages, 8);
}

void llama_decode_head(const float* x, const float* norm_w, float eps, const DecodeWeight& W, float* logits,
                       int64_t V, int64_t C) {
  decode_head([&](float* h) { rmsnorm_forward(x, norm_w, h, h + C, 1, C, eps); }, W, logits, V, C);
}

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  const bool avx512 = best_isa() == Isa::kAvx512;
  parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
    if (avx512) i = f32_to_bf16_avx512(src, dst, begin, end);
    for (; i < end; ++i) {
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
