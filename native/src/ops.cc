// Drivers for the elementwise kernels of ops.h (unary, affine, pow, broadcasting binary, strided copy, where,
// maskedFill, dropout) and the ISA table choice. Flat elementwise work is cut into spans of kSpan elements over
// the thread pool; binary and copyStrided first drop size-1 dims and merge dims that are contiguous in every
// operand, so a same-shape add is one flat span and a row-broadcast add is (rows, C) with a contiguous inner loop.
#include "ops.h"

#include <cstring>

#include "cpu.h"
#include "hash.h"
#include "ops_isa.h"
#include "thread_pool.h"

namespace lf {

const OpsKernels& ops_kernels() {
  static const OpsKernels& table = [] () -> const OpsKernels& {
    switch (best_isa()) {
      case Isa::kAvx512: return ops_kernels_avx512();
      case Isa::kAvx2: return ops_kernels_avx2();
      default: return ops_kernels_scalar();
    }
  }();
  return table;
}

namespace {

constexpr int64_t kSpan = 1 << 15;  // elements per task of a flat elementwise op

// A strided index space after dropping size-1 dims and merging dims contiguous in both operands.
struct Dims {
  int rank = 0;
  int64_t n[kMaxRank];
  int64_t s0[kMaxRank];
  int64_t s1[kMaxRank];
};

Dims collapse(const int64_t* shape, const int64_t* s0, const int64_t* s1, int rank) {
  Dims d;
  for (int i = 0; i < rank; ++i) {
    if (shape[i] == 1) continue;
    const int k = d.rank;
    if (k > 0 && d.s0[k - 1] == s0[i] * shape[i] && d.s1[k - 1] == s1[i] * shape[i]) {
      d.n[k - 1] *= shape[i];
      d.s0[k - 1] = s0[i];
      d.s1[k - 1] = s1[i];
    } else {
      d.n[k] = shape[i];
      d.s0[k] = s0[i];
      d.s1[k] = s1[i];
      d.rank = k + 1;
    }
  }
  if (d.rank == 0) {  // a single element
    d.n[0] = 1;
    d.s0[0] = 0;
    d.s1[0] = 0;
    d.rank = 1;
  }
  return d;
}

// Runs row(off0, off1, r) for each outer row r in [0, prod(n[0..rank-1))) of `d`, split over the pool; the
// offsets are those of the row's first inner element.
template <class Row>
void for_each_row(const Dims& d, int64_t grain, const Row& row) {
  int64_t rows = 1;
  for (int i = 0; i + 1 < d.rank; ++i) rows *= d.n[i];
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    int64_t idx[kMaxRank] = {0};
    int64_t o0 = 0, o1 = 0, rem = r0;
    for (int i = d.rank - 2; i >= 0; --i) {
      idx[i] = rem % d.n[i];
      rem /= d.n[i];
      o0 += idx[i] * d.s0[i];
      o1 += idx[i] * d.s1[i];
    }
    for (int64_t r = r0; r < r1; ++r) {
      row(o0, o1, r);
      for (int i = d.rank - 2; i >= 0; --i) {  // odometer step
        o0 += d.s0[i];
        o1 += d.s1[i];
        if (++idx[i] < d.n[i]) break;
        o0 -= d.n[i] * d.s0[i];
        o1 -= d.n[i] * d.s1[i];
        idx[i] = 0;
      }
    }
  });
}

int64_t grain_for_rows(int64_t inner) { return inner >= kSpan ? 1 : kSpan / (inner > 0 ? inner : 1); }

}  // namespace

void unary_forward(UnaryOp op, const float* x, float* out, int64_t n) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t b, int64_t e) { k.unary(static_cast<int>(op), x + b, out + b, e - b); });
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t b, int64_t e) {
    k.unary_backward(static_cast<int>(op), x + b, y + b, dy + b, dx + b, e - b);
  });
}

void affine_forward(const float* x, float* out, int64_t n, float mul, float add) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t b, int64_t e) { k.affine(x + b, out + b, e - b, mul, add); });
}

void pow_scalar_forward(const float* x, float* out, int64_t n, float p) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t b, int64_t e) { k.pow_scalar(x + b, out + b, e - b, p); });
}

void binary_forward(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
                    float* out, const int64_t* shape, int rank) {
  int64_t numel = 1;
  for (int i = 0; i < rank; ++i) numel *= shape[i];
  if (numel == 0) return;
  const auto& k = ops_kernels();
  const int o = static_cast<int>(op);
  const Dims d = collapse(shape, a_strides, b_strides, rank);
  const int64_t inner = d.n[d.rank - 1], sa = d.s0[d.rank - 1], sb = d.s1[d.rank - 1];
  if (d.rank == 1) {  // flat: same shape, or one side a scalar
    parallel_for(inner, kSpan, [&](int64_t i0, int64_t i1) {
      k.binary(o, a + i0 * sa, sa, b + i0 * sb, sb, out + i0, i1 - i0);
    });
    return;
  }
  for_each_row(d, grain_for_rows(inner), [&](int64_t oa, int64_t ob, int64_t r) {
    k.binary(o, a + oa, sa, b + ob, sb, out + r * inner, inner);
  });
}

void copy_strided(const float* src, int64_t src_offset, const int64_t* src_strides, float* dst, int64_t dst_offset,
                  const int64_t* dst_strides, const int64_t* shape, int rank) {
  int64_t numel = 1;
  for (int i = 0; i < rank; ++i) numel *= shape[i];
  if (numel == 0) return;
  const Dims d = collapse(shape, src_strides, dst_strides, rank);
  const int64_t inner = d.n[d.rank - 1], ss = d.s0[d.rank - 1], ds = d.s1[d.rank - 1];
  const float* s = src + src_offset;
  float* t = dst + dst_offset;
  auto copy_row = [&](const float* from, float* to, int64_t len) {
    if (ss == 1 && ds == 1) {
      std::memmove(to, from, static_cast<size_t>(len) * sizeof(float));
    } else {
      for (int64_t i = 0; i < len; ++i) to[i * ds] = from[i * ss];
    }
  };
  if (d.rank == 1) {
    parallel_for(inner, kSpan, [&](int64_t i0, int64_t i1) { copy_row(s + i0 * ss, t + i0 * ds, i1 - i0); });
    return;
  }
  for_each_row(d, grain_for_rows(inner), [&](int64_t os, int64_t od, int64_t) { copy_row(s + os, t + od, inner); });
}

void where_forward(const uint8_t* cond, const float* a, const float* b, float* out, int64_t n) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t i0, int64_t i1) { k.where(cond + i0, a + i0, b + i0, out + i0, i1 - i0); });
}

void masked_fill_forward(const float* x, const uint8_t* mask, float value, float* out, int64_t n) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t i0, int64_t i1) { k.masked_fill(x + i0, mask + i0, value, out + i0, i1 - i0); });
}

void dropout_forward(const float* x, float* out, int64_t n, double p, uint32_t seed) {
  if (p >= 1.0) {
    parallel_for(n, kSpan, [&](int64_t i0, int64_t i1) {
      std::memset(out + i0, 0, static_cast<size_t>(i1 - i0) * sizeof(float));
    });
    return;
  }
  const auto& k = ops_kernels();
  const uint32_t threshold = dropout_threshold(p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  parallel_for(n, kSpan, [&](int64_t i0, int64_t i1) { k.dropout(x, out, i0, i1, threshold, scale, seed); });
}

}  // namespace lf
