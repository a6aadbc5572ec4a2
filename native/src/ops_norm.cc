// Drivers for LayerNorm, RMSNorm (forward and backward) and rotary embedding. The backwards split rows into
// at most kBlocks fixed blocks (a function of N only); each block accumulates its own partial dweight/dbias and
// the partials are added into the caller's buffers in block order, in double. So the gradients are race-free,
// and bit-identical for any thread count.
#include <cmath>
#include <vector>

#include "ops.h"
#include "ops_isa.h"
#include "thread_pool.h"

namespace lf {
namespace {

constexpr int64_t kRowWork = 1 << 14;  // elements per task
constexpr int64_t kBlocks = 32;        // max partial-gradient blocks in a norm backward

int64_t row_grain(int64_t C) { return C >= kRowWork ? 1 : kRowWork / (C > 0 ? C : 1); }

// Runs block(r0, r1, dw, db) over row blocks with zeroed partial buffers, then adds them into dweight/dbias.
template <class Block>
void blocked_param_grad(int64_t N, int64_t C, float* dweight, float* dbias, const Block& block) {
  if (N * C <= kRowWork || N < 2) {  // small: one block, straight into the caller's buffers
    block(0, N, dweight, dbias);
    return;
  }
  const int64_t rows = (N + kBlocks - 1) / kBlocks;
  const int64_t blocks = (N + rows - 1) / rows;
  const int64_t width = dbias != nullptr ? 2 * C : C;
  std::vector<float> partial(static_cast<size_t>(blocks * width), 0.0f);
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* dw = partial.data() + b * width;
      block(b * rows, (b + 1) * rows < N ? (b + 1) * rows : N, dw, dbias != nullptr ? dw + C : nullptr);
    }
  });
  parallel_for(C, 1024, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double w = 0.0, bsum = 0.0;
      for (int64_t b = 0; b < blocks; ++b) {
        w += partial[static_cast<size_t>(b * width + c)];
        if (dbias != nullptr) bsum += partial[static_cast<size_t>(b * width + C + c)];
      }
      dweight[c] = static_cast<float>(dweight[c] + w);
      if (dbias != nullptr) dbias[c] = static_cast<float>(dbias[c] + bsum);
    }
  });
}

}  // namespace

void layernorm_forward(const float* x, const float* weight, const float* bias, float* out, float* mean, float* rstd,
                       int64_t N, int64_t C, float eps) {
  if (C == 0) {  // empty rows: mean 0, variance 0
    for (int64_t r = 0; r < N; ++r) mean[r] = 0.0f, rstd[r] = 1.0f / std::sqrt(eps);
    return;
  }
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) { k.layer_norm(x, weight, bias, out, mean, rstd, r0, r1, C, eps); });
}

void layernorm_backward(const float* dout, const float* x, const float* weight, const float* mean, const float* rstd,
                        float* dx, float* dweight, float* dbias, int64_t N, int64_t C) {
  const auto& k = ops_kernels();
  blocked_param_grad(N, C, dweight, dbias, [&](int64_t r0, int64_t r1, float* dw, float* db) {
    k.layer_norm_backward(dout, x, weight, mean, rstd, dx, dw, db, r0, r1, C);
  });
}

void rmsnorm_forward(const float* x, const float* weight, float* out, float* rstd, int64_t N, int64_t C, float eps) {
  if (C == 0) {
    for (int64_t r = 0; r < N; ++r) rstd[r] = 1.0f / std::sqrt(eps);
    return;
  }
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) { k.rms_norm(x, weight, out, rstd, r0, r1, C, eps); });
}

void rmsnorm_backward(const float* dout, const float* x, const float* weight, const float* rstd, float* dx,
                      float* dweight, int64_t N, int64_t C) {
  const auto& k = ops_kernels();
  blocked_param_grad(N, C, dweight, nullptr, [&](int64_t r0, int64_t r1, float* dw, float*) {
    k.rms_norm_backward(dout, x, weight, rstd, dx, dw, r0, r1, C);
  });
}

void rope_forward(const float* x, float* out, const float* cos, const float* sin, int64_t B, int64_t T, int64_t H,
                  int64_t D, bool inverse) {
  const auto& k = ops_kernels();
  parallel_for(B * T * H, row_grain(D), [&](int64_t r0, int64_t r1) { k.rope(x, out, cos, sin, r0, r1, T, H, D, inverse); });
}

}  // namespace lf
