// The single-pass backward of the fused attention (see attention_backward_groups.cc), used by attention_backward
// (attention.cc) when there are enough (batch, kv head) groups to keep every thread busy.
#pragma once
#include <cstdint>

#include "attention.h"

namespace lf {

// True when attention_backward should run attention_backward_groups for this shape: LLMFORGE_ATTN_BACKWARD=groups
// or =split forces a choice (tests cover both); by default, groups when B * Hkv >= 4 * threads.
bool attention_backward_use_groups(const AttnShape& s);

// dq, dk, dv from lse2 (B, Hq, Tq; lse in log2 units, +inf for rows that see no key) and delta = rowsum(dO * O).
void attention_backward_groups(const AttnShape& s, const float* q, const float* k, const float* v, const float* dout,
                               const float* lse2, const float* delta, float* dq, float* dk, float* dv);

}  // namespace lf
