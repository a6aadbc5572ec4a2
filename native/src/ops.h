// Non-GEMM kernels (elementwise, reductions, softmax, cross-entropy, embedding, norms, rope, dropout,
// optimizers): plain functions over raw pointers and sizes. Contracts are documented on the matching methods of
// the Backend interface in src/backend/backend.ts.
#pragma once
#include <cstdint>

namespace lf {}  // namespace lf
