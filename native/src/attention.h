// Fused causal scaled-dot-product attention (forward and backward), tiled with an online softmax.
// Contract: Backend.attention / Backend.attentionBackward in src/backend/backend.ts.
#pragma once
#include <cstdint>

namespace lf {}  // namespace lf
