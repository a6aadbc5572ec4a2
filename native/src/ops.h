// Non-GEMM kernels (elementwise, reductions, softmax, cross-entropy, embedding, norms, rope, dropout,
// optimizers): plain functions over raw pointers and sizes, each the exact contract of the matching method of
// the Backend interface in src/backend/backend.ts (bind_ops.cc checks the arguments; these trust them). Each
// one splits its work over the thread pool and runs the inner kernel of ops_isa.h for the best ISA. Dimension
// letters: N rows, C channels, V vocab, B batch, T time, H heads, D head size.
#pragma once
#include <cstdint>

namespace lf {

// Numeric codes shared with `Unary` and `Binary` in src/backend/backend.ts.
enum class UnaryOp : int32_t {
  kNeg = 0, kExp = 1, kLog = 2, kSqrt = 3, kTanh = 4, kRelu = 5, kGeluTanh = 6, kGeluErf = 7, kSilu = 8,
  kSigmoid = 9, kAbs = 10,
};
constexpr int32_t kUnaryOpCount = 11;
enum class BinaryOp : int32_t { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5 };
constexpr int32_t kBinaryOpCount = 6;
constexpr int kMaxRank = 8;

// ---- elementwise ---------------------------------------------------------------------------------------------
void unary_forward(UnaryOp op, const float* x, float* out, int64_t n);
void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n);
void affine_forward(const float* x, float* out, int64_t n, float mul, float add);
void pow_scalar_forward(const float* x, float* out, int64_t n, float p);
// out (contiguous, `shape`) = a op b with element strides over the output shape (0 broadcasts).
void binary_forward(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
                    float* out, const int64_t* shape, int rank);
void copy_strided(const float* src, int64_t src_offset, const int64_t* src_strides, float* dst, int64_t dst_offset,
                  const int64_t* dst_strides, const int64_t* shape, int rank);
void where_forward(const uint8_t* cond, const float* a, const float* b, float* out, int64_t n);
void masked_fill_forward(const float* x, const uint8_t* mask, float value, float* out, int64_t n);
// out[i] = hash32(seed, i) >= dropout_threshold(p) ? x[i] / (1 - p) : 0 (all zero for p >= 1).
void dropout_forward(const float* x, float* out, int64_t n, double p, uint32_t seed);

// ---- reductions over the middle axis of (outer, dim, inner) ----------------------------------------------------
void sum_axis(const float* x, float* out, int64_t outer, int64_t dim, int64_t inner);
void max_axis(const float* x, float* out, int32_t* argmax, int64_t outer, int64_t dim, int64_t inner);  // dim >= 1
double sum_squares(const float* x, int64_t n);

// ---- softmax family and cross-entropy over rows ----------------------------------------------------------------
void softmax_forward(const float* x, float* out, int64_t N, int64_t C);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t N, int64_t C);
void log_softmax_forward(const float* x, float* out, int64_t N, int64_t C);
void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t N, int64_t C);
// targets[r] is ignore_index or in [0, V).
void crossentropy_forward(const float* logits, const int32_t* targets, float* losses, float* lse, int64_t N, int64_t V,
                          int32_t ignore_index, float label_smoothing);
void crossentropy_backward(const float* logits, const float* lse, const int32_t* targets, const float* dlosses,
                           float* dlogits, int64_t N, int64_t V, int32_t ignore_index, float label_smoothing);

// ---- embedding and gathers (ids in range) ----------------------------------------------------------------------
void embedding_forward(const float* weight, const int32_t* ids, float* out, int64_t N, int64_t C);
void embedding_backward(const float* dout, const int32_t* ids, float* dweight, int64_t N, int64_t C);
void gather_last_forward(const float* x, const int32_t* idx, float* out, int64_t N, int64_t V);
void gather_last_backward(const float* dout, const int32_t* idx, float* dx, int64_t N, int64_t V);

// ---- normalization (bias/dbias may be null; dweight/dbias accumulate) ------------------------------------------
void layernorm_forward(const float* x, const float* weight, const float* bias, float* out, float* mean, float* rstd,
                       int64_t N, int64_t C, float eps);
void layernorm_backward(const float* dout, const float* x, const float* weight, const float* mean, const float* rstd,
                        float* dx, float* dweight, float* dbias, int64_t N, int64_t C);
void rmsnorm_forward(const float* x, const float* weight, float* out, float* rstd, int64_t N, int64_t C, float eps);
void rmsnorm_backward(const float* dout, const float* x, const float* weight, const float* rstd, float* dx,
                      float* dweight, int64_t N, int64_t C);

// ---- rotary embedding over x (B, T, H, D), cos/sin (T, D/2), D even -------------------------------------------
void rope_forward(const float* x, float* out, const float* cos, const float* sin, int64_t B, int64_t T, int64_t H,
                  int64_t D, bool inverse);

// ---- optimizers (in place; step >= 1) --------------------------------------------------------------------------
void adamw_step(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                float eps, float weight_decay, int64_t step, float grad_scale);
void sgd_step(float* param, const float* grad, float* buf, int64_t n, float lr, float momentum, float weight_decay,
              bool nesterov, bool first_step, float grad_scale);

}  // namespace lf
