// Single-pass backward of the fused attention, FlashAttention-2 style: one task per (b, kv head g) owns dK and dV
// of that kv head and dQ of the query heads that share it, so no other task writes them. For each key block it
// recomputes S = Q K^T from the saved logsumexp for every query tile that can see the block, and accumulates
// dV += P^T dO, dK += dS^T Q and dQ += dS K: five tile products per (query tile, key block), where the split
// backward (attention.cc: a dK/dV pass, then a dQ pass that recomputes S and dP) needs seven. The tasks are
// whole (b, g) slices, so this path needs B * Hkv of a few per thread; attention_backward picks it then.
#include "attention_backward_groups.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "attention_tiles.h"
#include "thread_pool.h"

namespace lf {
namespace {

constexpr int64_t kBr = 64;  // query rows per tile
constexpr int64_t kBc = 64;  // keys per block
constexpr float kLog2e = 1.4426950408889634f;
constexpr int32_t kNoLimit = std::numeric_limits<int32_t>::max();

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

float* scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

int32_t row_limit(const AttnShape& s, int64_t i) {
  if (!s.causal) return kNoLimit;
  return static_cast<int32_t>(std::min<int64_t>(s.qOffset + i, kNoLimit - 1));
}

void group_backward(const AttnTileOps& ops, const AttnShape& s, const float* q, const float* k, const float* v,
                    const float* dout, const float* lse2, const float* delta, float* dq, float* dk, float* dv,
                    int64_t b, int64_t g) {
  const int64_t D = s.D, G = s.Hq / s.Hkv, Dp = round16(D);
  const float c = s.scale * kLog2e;
  const int64_t ld = attn_ldkv(s), ldq = attn_ldq(s), ldo = attn_ldo(s);

  // Kt, Vt (D, kBc): the block's keys and values transposed, lanes = keys (Kt in log2 units). S, dP (kBr, kBc).
  // dKa, dVa (kBc, Dp) accumulators. Kc (kBc, D), Qc and dOc (kBr, D): contiguous copies of the rows that the
  // products stream many times (in place they sit a row stride apart, one page each, and the row-streaming
  // products ran at half the speed of the others).
  // dQa (G * Tq, Dp): the group's dQ, accumulated here over the key blocks and written to dq once at the end.
  float* Kt = scratch(2 * D * kBc + 2 * kBr * kBc + 2 * kBc * Dp + kBc * D + 2 * kBr * D + G * s.Tq * Dp);
  float* Vt = Kt + D * kBc;
  float* S = Vt + D * kBc;
  float* dP = S + kBr * kBc;
  float* dKa = dP + kBr * kBc;
  float* dVa = dKa + kBc * Dp;
  float* Kc = dVa + kBc * Dp;
  float* Qc = Kc + kBc * D;
  float* dOc = Qc + kBr * D;
  float* dQa = dOc + kBr * D;
  std::fill(dQa, dQa + G * s.Tq * Dp, 0.f);
  int32_t pos[kBr], segq[kBr];
  for (int64_t j0 = 0; j0 < s.Tk; j0 += kBc) {
    const int64_t nk = std::min(kBc, s.Tk - j0), N = round16(nk);
    const float* K = k + (b * s.Tk + j0) * ld + g * D;
    const float* V = v + (b * s.Tk + j0) * ld + g * D;
    const int32_t* segk = s.segK != nullptr ? s.segK + b * s.Tk + j0 : nullptr;
    for (int64_t jj = 0; jj < nk; ++jj) std::memcpy(Kc + jj * D, K + jj * ld, sizeof(float) * static_cast<size_t>(D));
    ops.transpose(Kc, D, nk, D, c, Kt, N);
    ops.transpose(V, ld, nk, D, 1.f, Vt, N);
    std::fill(dKa, dKa + 2 * kBc * Dp, 0.f);
    // Causal: rows before j0 - qOffset see none of this block.
    const int64_t iStart = s.causal ? std::clamp<int64_t>(j0 - s.qOffset, 0, s.Tq) : 0;
    for (int64_t hh = 0; hh < G; ++hh) {
      const int64_t h = g * G + hh;
      for (int64_t i0 = iStart; i0 < s.Tq; i0 += kBr) {
        const int64_t nr = std::min(kBr, s.Tq - i0);
        const int64_t qOff = (b * s.Tq + i0) * ldq + h * D;
        for (int64_t r = 0; r < nr; ++r) {
          std::memcpy(Qc + r * D, q + qOff + r * ldq, sizeof(float) * static_cast<size_t>(D));
          std::memcpy(dOc + r * D, dout + (b * s.Tq + i0 + r) * ldo + h * D, sizeof(float) * static_cast<size_t>(D));
        }
        const int64_t rowIdx = (b * s.Hq + h) * s.Tq + i0;
        for (int64_t r = 0; r < nr; ++r) {
          pos[r] = row_limit(s, i0 + r);
          segq[r] = s.segQ != nullptr ? s.segQ[b * s.Tq + i0 + r] : 0;
        }
        ops.nt(Qc, D, nr, D, Kt, N, S);
        const bool partial = s.causal && j0 + nk - 1 > pos[0];
        if (segk != nullptr || partial) ops.mask_lanes_keys(S, nr, N, nk, j0, pos, segq, segk);
        ops.nt(dOc, D, nr, D, Vt, N, dP);
        ops.grad_lanes_keys(S, dP, nr, N, lse2 + rowIdx, delta + rowIdx);  // S <- P, dP <- dS
        ops.acc(dVa, Dp, nk, D, S, N, nr, dOc, D);
        ops.acc(dKa, Dp, nk, D, dP, N, nr, Qc, D);
        ops.acc_rows(dQa + (hh * s.Tq + i0) * Dp, Dp, nr, D, dP, N, nk, Kc, D);
      }
    }
    for (int64_t jj = 0; jj < nk; ++jj) {
      float* dkr = dk + (b * s.Tk + j0 + jj) * ld + g * D;
      float* dvr = dv + (b * s.Tk + j0 + jj) * ld + g * D;
      for (int64_t d = 0; d < D; ++d) {
        dkr[d] = s.scale * dKa[jj * Dp + d];
        dvr[d] = dVa[jj * Dp + d];
      }
    }
  }
  for (int64_t hh = 0; hh < G; ++hh) {
    for (int64_t i = 0; i < s.Tq; ++i) {
      float* row = dq + (b * s.Tq + i) * ldq + (g * G + hh) * D;
      const float* acc = dQa + (hh * s.Tq + i) * Dp;
      for (int64_t e = 0; e < D; ++e) row[e] = s.scale * acc[e];
    }
  }
}

}  // namespace

bool attention_backward_use_groups(const AttnShape& s) {
  // Read on every call (once per backward, negligible), so a benchmark can switch schedules in one process.
  const char* forced = std::getenv("LLMFORGE_ATTN_BACKWARD");
  if (forced != nullptr && std::strcmp(forced, "groups") == 0) return true;
  if (forced != nullptr && std::strcmp(forced, "split") == 0) return false;
  return s.B * s.Hkv >= 4 * static_cast<int64_t>(num_threads());
}

void attention_backward_groups(const AttnShape& s, const float* q, const float* k, const float* v, const float* dout,
                               const float* lse2, const float* delta, float* dq, float* dk, float* dv) {
  const AttnTileOps& ops = attn_tile_ops();
  parallel_for(s.B * s.Hkv, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) group_backward(ops, s, q, k, v, dout, lse2, delta, dq, dk, dv, t / s.Hkv, t % s.Hkv);
  });
}

}  // namespace lf
