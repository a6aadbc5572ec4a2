// Fused scaled-dot-product attention (forward and backward), tiled FlashAttention-2 style with an online
// softmax: no (Tq, Tk) matrix is ever materialized. Plain functions over raw pointers and sizes.
// Contract: Backend.attention / Backend.attentionBackward in src/backend/backend.ts.
//
// Layouts: q, out, dq (B, Tq, Hq, D); k, v, dk, dv (B, Tk, Hkv, D), rows at the strides of AttnShape; lse (B, Hq, Tq); segQ (B, Tq) and
// segK (B, Tk) may be null. Query head h reads kv head h / (Hq / Hkv). Query row i sits at absolute
// position qOffset + i, key j at j; causal: j <= qOffset + i.
#pragma once
#include <cstdint>

namespace lf {

struct AttnShape {
  int64_t B, Tq, Tk, Hq, Hkv, D;
  float scale;
  bool causal;
  int64_t qOffset;
  const int32_t* segQ;  // (B, Tq) or nullptr
  const int32_t* segK;  // (B, Tk) or nullptr
  // Floats between consecutive positions (rows) of q and dq, of k, v, dk and dv, and of out and dout; 0 (what
  // `AttnShape s{}` leaves) means dense: Hq * D, Hkv * D, Hq * D. A packed (B, T, 3C) projection passes q, k, v as
  // offsets 0, C, 2C into it with ldq = ldkv = 3C. Kernels read them through attn_ldq / attn_ldkv / attn_ldo.
  int64_t ldq, ldkv, ldo;
};

inline int64_t attn_ldq(const AttnShape& s) { return s.ldq != 0 ? s.ldq : s.Hq * s.D; }
inline int64_t attn_ldkv(const AttnShape& s) { return s.ldkv != 0 ? s.ldkv : s.Hkv * s.D; }
inline int64_t attn_ldo(const AttnShape& s) { return s.ldo != 0 ? s.ldo : s.Hq * s.D; }

// out (B, Tq, Hq, D) and lse (B, Hq, Tq; -inf for a row that sees no key, whose out row is 0).
void attention_forward(const AttnShape& s, const float* q, const float* k, const float* v, float* out,
                       float* lse);

// Writes dq, dk, dv (same shapes as q, k, v) from the forward's out and lse and the output gradient dout.
void attention_backward(const AttnShape& s, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv);

}  // namespace lf
