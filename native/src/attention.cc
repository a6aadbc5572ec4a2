// Fused attention kernels, FlashAttention-2 style: see attention.h. This file holds the loop structure (which
// tiles exist, which blocks are skipped or masked, how the work is split over threads); the arithmetic on a
// tile lives in attention_tiles.cc behind AttnTileOps, chosen at run time per ISA.
//
// Forward: one task per (b, kv head g, tile of up to kBr query rows). The rows of a tile are the query rows of
// all the query heads that share kv head g (row index = i * G + head-in-group), so a decode step (Tq = 1) with
// grouped-query attention still reads each key once for G heads. Keys are visited in blocks of kBc with an
// online softmax; causal blocks entirely above the diagonal are never visited. Tiles of at most kFewRows rows
// (decode) compute their scores with dot products over contiguous keys instead of the transposed-query product,
// which would waste most of its 16 lanes.
//
// Backward, race free in two passes that each own what they write, with P recomputed from the saved lse:
//   1. dK, dV: one task per (b, g, key block); loops over the query heads of the group and the row tiles
//      that can see the block.
//   2. dQ: one task per (b, h, query tile); loops over the key blocks the tile can see.
// Delta = rowsum(dO * O) is computed once up front. With enough (b, kv head) groups per thread the single-pass
// backward of attention_backward_groups.cc runs instead (five tile products per tile pair instead of seven).
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "attention_backward_groups.h"
#include "attention_tiles.h"
#include "thread_pool.h"

namespace lf {
namespace {

constexpr int64_t kBr = 64;           // query rows per tile (a multiple of 16: the lanes of the forward tiles)
constexpr int64_t kBc = 64;           // keys per block
constexpr int64_t kFewRows = 4;       // tiles of at most this many rows (decode) score keys with dot products
constexpr float kLog2e = 1.4426950408889634f;
constexpr double kLn2 = 0.6931471805599453;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int32_t kNoLimit = std::numeric_limits<int32_t>::max();  // position bound when not causal

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

// Per-thread scratch, grown on demand and reused across tasks and calls.
float* scratch(int64_t n) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

// Asks the cache for n rows of `len` floats at stride ld. The few-row (decode) path is bound by memory: its
// key and value rows sit a (Hkv * D) stride apart, often one per page, where hardware prefetchers stop.
void prefetch_rows(const float* p, int64_t ld, int64_t n, int64_t len) {
  for (int64_t j = 0; j < n; ++j)
    for (int64_t e = 0; e < len; e += 16) __builtin_prefetch(p + j * ld + e);
}

// The last key position query row i may see (kNoLimit when not causal).
int32_t row_limit(const AttnShape& s, int64_t i) {
  if (!s.causal) return kNoLimit;
  return static_cast<int32_t>(std::min<int64_t>(s.qOffset + i, kNoLimit - 1));
}

void forward_tile(const AttnTileOps& ops, const AttnShape& s, const float* q, const float* k, const float* v,
                  float* out, float* lse, int64_t b, int64_t g, int64_t tile) {
  const int64_t D = s.D, G = s.Hq / s.Hkv, Dp = round16(D);
  const int64_t r0 = tile * kBr, nr = std::min(kBr, s.Tq * G - r0), N = round16(nr);
  const float c = s.scale * kLog2e;
  const int64_t ld = attn_ldkv(s);
  const float* K = k + b * s.Tk * ld + g * D;
  const float* V = v + b * s.Tk * ld + g * D;
  const int32_t* segk = s.segK != nullptr ? s.segK + b * s.Tk : nullptr;

  int32_t pos[kBr], segq[kBr];
  int64_t qOff[kBr], oOff[kBr], lseIdx[kBr];  // offsets of the row in q and out, index of its lse
  int64_t minPos = kNoLimit, maxPos = -1;
  for (int64_t r = 0; r < N; ++r) {
    if (r >= nr) {  // padding lanes: see nothing
      pos[r] = -1;
      segq[r] = 0;
      continue;
    }
    const int64_t i = (r0 + r) / G, h = g * G + (r0 + r) % G;
    qOff[r] = (b * s.Tq + i) * attn_ldq(s) + h * D;
    oOff[r] = (b * s.Tq + i) * attn_ldo(s) + h * D;
    lseIdx[r] = (b * s.Hq + h) * s.Tq + i;
    pos[r] = row_limit(s, i);
    segq[r] = s.segQ != nullptr ? s.segQ[b * s.Tq + i] : 0;
    minPos = std::min<int64_t>(minPos, pos[r]);
    maxPos = std::max<int64_t>(maxPos, pos[r]);
  }

  // Qt (D, N): the tile's queries transposed, lanes = rows, in log2 units (tile path); Qr (nr, D): the same
  // rows untransposed (few-row path). St (kBc, N): scores, then probabilities. O (nr, Dp): unnormalized output.
  const bool fewRows = nr <= kFewRows;
  float* Qt = scratch(D * N + kBc * N + nr * Dp + 3 * N + (fewRows ? 0 : kBc * D));
  float* Qr = Qt;
  float* St = Qt + D * N;
  float* O = St + kBc * N;
  float* m = O + nr * Dp;
  float* l = m + N;
  float* alpha = l + N;
  for (int64_t r = 0; r < N; ++r) {
    const float* qr = q + (r < nr ? qOff[r] : 0);
    for (int64_t d = 0; d < D; ++d) {
      const float x = r < nr ? qr[d] * c : 0.f;
      if (fewRows) {
        if (r < nr) Qr[r * D + d] = x;
      } else {
        Qt[d * N + r] = x;
      }
    }
    m[r] = -kInf;
    l[r] = 0.f;
  }
  if (fewRows) std::fill(St, St + kBc * N, 0.f);  // lanes >= nr are never written by dots: keep them finite
  std::fill(O, O + nr * Dp, 0.f);

  const int64_t kend = std::min<int64_t>(s.Tk, maxPos + 1);  // causal: later blocks are fully masked
  for (int64_t j0 = 0; j0 < kend; j0 += kBc) {
    const int64_t nk = std::min(kBc, kend - j0);
    if (fewRows) {
      const int64_t next = std::min(kBc, kend - j0 - nk);
      prefetch_rows(K + (j0 + kBc) * ld, ld, next, D);
      prefetch_rows(V + (j0 + kBc) * ld, ld, next, D);
      ops.dots(Qr, D, nr, D, K + j0 * ld, ld, nk, St, N);
    } else {
      ops.nt(K + j0 * ld, ld, nk, D, Qt, N, St);
    }
    const bool partial = j0 + nk - 1 > minPos;  // some row cannot see the block's last key
    if (segk != nullptr || partial) {
      ops.mask_lanes_rows(St, nk, N, j0, pos, segq, segk != nullptr ? segk + j0 : nullptr);
    }
    ops.online_update(St, nk, N, m, l, alpha);
    ops.scale_rows(O, Dp, nr, D, alpha);
    if (fewRows) {
      ops.acc(O, Dp, nr, D, St, N, nk, V + j0 * ld, ld);
    } else {  // the product streams the block's value rows nr / 4 times: from a contiguous copy, not a page each
      float* Vc = alpha + N;
      for (int64_t jj = 0; jj < nk; ++jj) std::memcpy(Vc + jj * D, V + (j0 + jj) * ld, sizeof(float) * static_cast<size_t>(D));
      ops.acc(O, Dp, nr, D, St, N, nk, Vc, D);
    }
  }
  for (int64_t r = 0; r < nr; ++r) {
    float* o = out + oOff[r];
    if (l[r] == 0.f) {
      std::fill(o, o + D, 0.f);
      lse[lseIdx[r]] = -kInf;
      continue;
    }
    const float inv = 1.f / l[r];
    for (int64_t d = 0; d < D; ++d) o[d] = O[r * Dp + d] * inv;
    lse[lseIdx[r]] = static_cast<float>((m[r] + std::log2(static_cast<double>(l[r]))) * kLn2);
  }
}

// Backward pass 1: dK and dV of key block kb of kv head g, summed over the group's query heads and rows.
// lse2 (B, Hq, Tq) is lse in log2 units (+inf for dead rows, so P = 0); delta (B, Hq, Tq) = rowsum(dO * O).
void backward_kv_block(const AttnTileOps& ops, const AttnShape& s, const float* q, const float* k, const float* v,
                       const float* dout, const float* lse2, const float* delta, float* dk, float* dv, int64_t b,
                       int64_t g, int64_t kb) {
  const int64_t D = s.D, G = s.Hq / s.Hkv, Dp = round16(D);
  const int64_t j0 = kb * kBc, nk = std::min(kBc, s.Tk - j0), N = round16(nk);
  const float c = s.scale * kLog2e;
  const int64_t ld = attn_ldkv(s), ldq = attn_ldq(s), ldo = attn_ldo(s);
  const float* K = k + (b * s.Tk + j0) * ld + g * D;
  const float* V = v + (b * s.Tk + j0) * ld + g * D;
  const int32_t* segk = s.segK != nullptr ? s.segK + b * s.Tk + j0 : nullptr;

  // Kt, Vt (D, N): the block's keys and values transposed, lanes = keys (Kt pre-scaled to log2 units).
  // S, dP (kBr, N). dKa, dVa (nk, Dp) accumulators.
  float* Kt = scratch(2 * D * N + 2 * kBr * N + 2 * nk * Dp);
  float* Vt = Kt + D * N;
  float* S = Vt + D * N;
  float* dP = S + kBr * N;
  float* dKa = dP + kBr * N;
  float* dVa = dKa + nk * Dp;
  for (int64_t jj = 0; jj < N; ++jj) {
    for (int64_t d = 0; d < D; ++d) {
      Kt[d * N + jj] = jj < nk ? K[jj * ld + d] * c : 0.f;
      Vt[d * N + jj] = jj < nk ? V[jj * ld + d] : 0.f;
    }
  }
  std::fill(dKa, dKa + 2 * nk * Dp, 0.f);

  int32_t pos[kBr], segq[kBr];
  // Causal: rows before i0 = j0 - qOffset see none of this block.
  const int64_t iStart = s.causal ? std::clamp<int64_t>(j0 - s.qOffset, 0, s.Tq) : 0;
  for (int64_t hh = 0; hh < G; ++hh) {
    const int64_t h = g * G + hh;
    for (int64_t i0 = iStart; i0 < s.Tq; i0 += kBr) {
      const int64_t nr = std::min(kBr, s.Tq - i0);
      const float* Q = q + (b * s.Tq + i0) * ldq + h * D;
      const float* dO = dout + (b * s.Tq + i0) * ldo + h * D;
      const int64_t rowIdx = (b * s.Hq + h) * s.Tq + i0;
      for (int64_t r = 0; r < nr; ++r) {
        pos[r] = row_limit(s, i0 + r);
        segq[r] = s.segQ != nullptr ? s.segQ[b * s.Tq + i0 + r] : 0;
      }
      ops.nt(Q, ldq, nr, D, Kt, N, S);
      const bool partial = s.causal && j0 + nk - 1 > pos[0];
      if (segk != nullptr || partial) ops.mask_lanes_keys(S, nr, N, nk, j0, pos, segq, segk);
      ops.nt(dO, ldo, nr, D, Vt, N, dP);
      ops.grad_lanes_keys(S, dP, nr, N, lse2 + rowIdx, delta + rowIdx);  // S <- P, dP <- dS
      ops.acc(dVa, Dp, nk, D, S, N, nr, dO, ldo);
      ops.acc(dKa, Dp, nk, D, dP, N, nr, Q, ldq);
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

// Backward pass 2: dQ of query tile `tile` of query head h.
void backward_q_tile(const AttnTileOps& ops, const AttnShape& s, const float* q, const float* k, const float* v,
                     const float* dout, const float* lse2, const float* delta, float* dq, int64_t b, int64_t h,
                     int64_t tile) {
  const int64_t D = s.D, G = s.Hq / s.Hkv, Dp = round16(D), g = h / G;
  const int64_t i0 = tile * kBr, nr = std::min(kBr, s.Tq - i0), N = round16(nr);
  const float c = s.scale * kLog2e;
  const int64_t ld = attn_ldkv(s), ldq = attn_ldq(s), ldo = attn_ldo(s);
  const float* K = k + b * s.Tk * ld + g * D;
  const float* V = v + b * s.Tk * ld + g * D;
  const float* Q = q + (b * s.Tq + i0) * ldq + h * D;
  const float* dO = dout + (b * s.Tq + i0) * ldo + h * D;
  const int64_t rowIdx = (b * s.Hq + h) * s.Tq + i0;
  const int32_t* segk = s.segK != nullptr ? s.segK + b * s.Tk : nullptr;

  // Qt, dOt (D, N) lanes = rows (Qt in log2 units); St, dPt (kBc, N); dQa (nr, Dp); row vectors.
  float* Qt = scratch(2 * D * N + 2 * kBc * N + nr * Dp + 2 * N);
  float* dOt = Qt + D * N;
  float* St = dOt + D * N;
  float* dPt = St + kBc * N;
  float* dQa = dPt + kBc * N;
  float* l2 = dQa + nr * Dp;
  float* dl = l2 + N;
  int32_t pos[kBr], segq[kBr];
  for (int64_t r = 0; r < N; ++r) {
    const bool real = r < nr;
    for (int64_t d = 0; d < D; ++d) {
      Qt[d * N + r] = real ? Q[r * ldq + d] * c : 0.f;
      dOt[d * N + r] = real ? dO[r * ldo + d] : 0.f;
    }
    l2[r] = real ? lse2[rowIdx + r] : kInf;
    dl[r] = real ? delta[rowIdx + r] : 0.f;
    pos[r] = real ? row_limit(s, i0 + r) : -1;
    segq[r] = real && s.segQ != nullptr ? s.segQ[b * s.Tq + i0 + r] : 0;
  }
  std::fill(dQa, dQa + nr * Dp, 0.f);

  const int64_t kend = std::min<int64_t>(s.Tk, static_cast<int64_t>(pos[nr - 1]) + 1);
  for (int64_t j0 = 0; j0 < kend; j0 += kBc) {
    const int64_t nk = std::min(kBc, kend - j0);
    ops.nt(K + j0 * ld, ld, nk, D, Qt, N, St);
    const bool partial = j0 + nk - 1 > pos[0];
    if (segk != nullptr || partial) {
      ops.mask_lanes_rows(St, nk, N, j0, pos, segq, segk != nullptr ? segk + j0 : nullptr);
    }
    ops.nt(V + j0 * ld, ld, nk, D, dOt, N, dPt);
    ops.grad_lanes_rows(St, dPt, nk, N, l2, dl);  // dPt <- dS^T
    ops.acc(dQa, Dp, nr, D, dPt, N, nk, K + j0 * ld, ld);
  }
  for (int64_t r = 0; r < nr; ++r) {
    float* dqr = dq + (b * s.Tq + i0 + r) * ldq + h * D;
    for (int64_t d = 0; d < D; ++d) dqr[d] = s.scale * dQa[r * Dp + d];
  }
}

}  // namespace

void attention_forward(const AttnShape& s, const float* q, const float* k, const float* v, float* out,
                       float* lse) {
  const AttnTileOps& ops = attn_tile_ops();
  const int64_t G = s.Hq / s.Hkv;
  const int64_t tiles = (s.Tq * G + kBr - 1) / kBr;
  const int64_t tasks = s.B * s.Hkv * tiles;
  parallel_for(tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      // Last tiles first: under a causal mask they are the longest, which balances the dynamic schedule.
      const int64_t tile = tiles - 1 - t % tiles, bg = t / tiles;
      forward_tile(ops, s, q, k, v, out, lse, bg / s.Hkv, bg % s.Hkv, tile);
    }
  });
}

void attention_backward(const AttnShape& s, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv) {
  const AttnTileOps& ops = attn_tile_ops();
  const int64_t rows = s.B * s.Hq * s.Tq;
  std::vector<float> lse2(static_cast<size_t>(rows)), delta(static_cast<size_t>(rows));
  parallel_for(s.B * s.Hq, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / s.Hq, h = bh % s.Hq;
      for (int64_t i = 0; i < s.Tq; ++i) {
        const int64_t idx = bh * s.Tq + i, off = (b * s.Tq + i) * attn_ldo(s) + h * s.D;
        lse2[idx] = lse[idx] == -kInf ? kInf : lse[idx] * kLog2e;
        ops.dots(dout + off, 0, 1, s.D, out + off, 0, 1, &delta[idx], 1);
      }
    }
  });

  if (attention_backward_use_groups(s)) {
    attention_backward_groups(s, q, k, v, dout, lse2.data(), delta.data(), dq, dk, dv);
    return;
  }
  const int64_t kBlocks = (s.Tk + kBc - 1) / kBc;
  parallel_for(s.B * s.Hkv * kBlocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t kb = t % kBlocks, bg = t / kBlocks;
      backward_kv_block(ops, s, q, k, v, dout, lse2.data(), delta.data(), dk, dv, bg / s.Hkv, bg % s.Hkv, kb);
    }
  });

  const int64_t qTiles = (s.Tq + kBr - 1) / kBr;
  parallel_for(s.B * s.Hq * qTiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t tile = qTiles - 1 - t % qTiles, bh = t / qTiles;
      backward_q_tile(ops, s, q, k, v, dout, lse2.data(), delta.data(), dq, bh / s.Hq, bh % s.Hq, tile);
    }
  });
}

}  // namespace lf
