// Drivers for the row-wise kernels of ops.h: axis reductions (sum in double, max with first argmax), the
// float64 sum of squares, the softmax family, fused cross-entropy, embedding and last-axis gathers. Rows are
// split over the thread pool with a grain that keeps about kRowWork elements per task, so small calls run inline.
// Every reduction has a fixed evaluation order (per-block partials summed in block order), so results do not
// depend on the thread count.
#include <cstring>
#include <vector>

#include "ops.h"
#include "ops_isa.h"
#include "thread_pool.h"

namespace lf {
namespace {

constexpr int64_t kRowWork = 1 << 14;  // elements per task for row kernels
constexpr int64_t kTile = 256;         // inner columns per task of an axis reduction with inner > 1

int64_t row_grain(int64_t C) { return C >= kRowWork ? 1 : kRowWork / (C > 0 ? C : 1); }

double sum_row_f64(const float* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += static_cast<double>(x[i + l]);
  }
  for (; i < n; ++i) acc[0] += static_cast<double>(x[i]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

}  // namespace

// ---- axis reductions -----------------------------------------------------------------------------------------

void sum_axis(const float* x, float* out, int64_t outer, int64_t dim, int64_t inner) {
  if (inner == 1) {
    parallel_for(outer, row_grain(dim), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) out[o] = static_cast<float>(sum_row_f64(x + o * dim, dim));
    });
    return;
  }
  const int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(outer * tiles, row_grain(dim * kTile), [&](int64_t j0, int64_t j1) {
    double acc[kTile];
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t o = j / tiles, i0 = (j % tiles) * kTile;
      const int64_t len = inner - i0 < kTile ? inner - i0 : kTile;
      for (int64_t i = 0; i < len; ++i) acc[i] = 0.0;
      for (int64_t d = 0; d < dim; ++d) {
        const float* xr = x + (o * dim + d) * inner + i0;
        for (int64_t i = 0; i < len; ++i) acc[i] += static_cast<double>(xr[i]);
      }
      for (int64_t i = 0; i < len; ++i) out[o * inner + i0 + i] = static_cast<float>(acc[i]);
    }
  });
}

// A NaN wins over any number (and the first NaN is kept); otherwise the first maximum.
static inline bool max_better(float v, float best) { return v > best || (v != v && best == best); }

void max_axis(const float* x, float* out, int32_t* argmax, int64_t outer, int64_t dim, int64_t inner) {
  if (inner == 1) {
    parallel_for(outer, row_grain(dim), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const float* xr = x + o * dim;
        float best = xr[0];
        int32_t arg = 0;
        for (int64_t d = 1; d < dim; ++d) {
          if (max_better(xr[d], best)) {
            best = xr[d];
            arg = static_cast<int32_t>(d);
          }
        }
        out[o] = best;
        argmax[o] = arg;
      }
    });
    return;
  }
  const int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(outer * tiles, row_grain(dim * kTile), [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t o = j / tiles, i0 = (j % tiles) * kTile;
      const int64_t len = inner - i0 < kTile ? inner - i0 : kTile;
      float* best = out + o * inner + i0;
      int32_t* arg = argmax + o * inner + i0;
      const float* x0 = x + o * dim * inner + i0;
      for (int64_t i = 0; i < len; ++i) {
        best[i] = x0[i];
        arg[i] = 0;
      }
      for (int64_t d = 1; d < dim; ++d) {
        const float* xr = x0 + d * inner;
        for (int64_t i = 0; i < len; ++i) {
          if (max_better(xr[i], best[i])) {
            best[i] = xr[i];
            arg[i] = static_cast<int32_t>(d);
          }
        }
      }
    }
  });
}

double sum_squares(const float* x, int64_t n) {
  constexpr int64_t kBlock = 1 << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks <= 1) return ops_kernels().sum_squares(x, n);
  std::vector<double> partial(static_cast<size_t>(blocks));
  const auto& k = ops_kernels();
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * kBlock;
      partial[static_cast<size_t>(b)] = k.sum_squares(x + i0, n - i0 < kBlock ? n - i0 : kBlock);
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// ---- softmax family ------------------------------------------------------------------------------------------

void softmax_forward(const float* x, float* out, int64_t N, int64_t C) {
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) { k.softmax(x, out, r0, r1, C); });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t N, int64_t C) {
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) { k.softmax_backward(y, dy, dx, r0, r1, C); });
}

void log_softmax_forward(const float* x, float* out, int64_t N, int64_t C) {
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) { k.log_softmax(x, out, r0, r1, C); });
}

void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t N, int64_t C) {
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) { k.log_softmax_backward(y, dy, dx, r0, r1, C); });
}

void crossentropy_forward(const float* logits, const int32_t* targets, float* losses, float* lse, int64_t N, int64_t V,
                          int32_t ignore_index, float label_smoothing) {
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(V), [&](int64_t r0, int64_t r1) {
    k.cross_entropy(logits, targets, losses, lse, r0, r1, V, ignore_index, label_smoothing);
  });
}

void crossentropy_backward(const float* logits, const float* lse, const int32_t* targets, const float* dlosses,
                           float* dlogits, int64_t N, int64_t V, int32_t ignore_index, float label_smoothing) {
  const auto& k = ops_kernels();
  parallel_for(N, row_grain(V), [&](int64_t r0, int64_t r1) {
    k.cross_entropy_backward(logits, lse, targets, dlosses, dlogits, r0, r1, V, ignore_index, label_smoothing);
  });
}

// ---- embedding and gathers -----------------------------------------------------------------------------------

void embedding_forward(const float* weight, const int32_t* ids, float* out, int64_t N, int64_t C) {
  parallel_for(N, row_grain(C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      std::memcpy(out + r * C, weight + static_cast<int64_t>(ids[r]) * C, static_cast<size_t>(C) * sizeof(float));
    }
  });
}

// Scatter-add split by column blocks, not rows: repeated ids never race and the sum order is fixed.
void embedding_backward(const float* dout, const int32_t* ids, float* dweight, int64_t N, int64_t C) {
  constexpr int64_t kCols = 64;
  const int64_t blocks = (C + kCols - 1) / kCols;
  const int64_t grain = N * kCols >= kRowWork ? 1 : blocks;
  parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    const int64_t c0 = b0 * kCols, c1 = b1 * kCols < C ? b1 * kCols : C;
    for (int64_t r = 0; r < N; ++r) {
      const float* g = dout + r * C;
      float* w = dweight + static_cast<int64_t>(ids[r]) * C;
      for (int64_t c = c0; c < c1; ++c) w[c] += g[c];
    }
  });
}

void gather_last_forward(const float* x, const int32_t* idx, float* out, int64_t N, int64_t V) {
  for (int64_t r = 0; r < N; ++r) out[r] = x[r * V + idx[r]];
}

void gather_last_backward(const float* dout, const int32_t* idx, float* dx, int64_t N, int64_t V) {
  parallel_for(N, row_grain(V), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      std::memset(dx + r * V, 0, static_cast<size_t>(V) * sizeof(float));
      dx[r * V + idx[r]] = dout[r];
    }
  });
}

}  // namespace lf
