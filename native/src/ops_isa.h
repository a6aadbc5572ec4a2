// The single-threaded inner kernels of ops.h (a span of elements or a block of rows each), compiled once per
// ISA from ops_kernels.inc into ops_isa_scalar.cc, ops_isa_avx2.cc and ops_isa_avx512.cc. The drivers in
// ops_*.cc validate nothing (the bindings did), split the work over the thread pool and call these through
// the table that best_isa() picks, so LLMFORGE_ISA=scalar|avx2|avx512 selects the path at process start.
#pragma once
#include <cstdint>

namespace lf {

struct OpsKernels {
  // Elementwise spans of n elements.
  void (*unary)(int op, const float* x, float* out, int64_t n);
  void (*unary_backward)(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n);
  void (*affine)(const float* x, float* out, int64_t n, float mul, float add);
  void (*pow_scalar)(const float* x, float* out, int64_t n, float p);
  // out[i] = a[i*sa] op b[i*sb] with each stride in {0, 1} fast and any other stride general.
  void (*binary)(int op, const float* a, int64_t sa, const float* b, int64_t sb, float* out, int64_t n);
  void (*where)(const uint8_t* cond, const float* a, const float* b, float* out, int64_t n);
  void (*masked_fill)(const float* x, const uint8_t* mask, float value, float* out, int64_t n);
  // Elements [begin, end) of dropout (the hash counter is the absolute index).
  void (*dropout)(const float* x, float* out, int64_t begin, int64_t end, uint32_t threshold, float scale,
                  uint32_t seed);
  double (*sum_squares)(const float* x, int64_t n);
  // Rows [r0, r1) of an (N, C) problem.
  void (*softmax)(const float* x, float* out, int64_t r0, int64_t r1, int64_t C);
  void (*softmax_backward)(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1, int64_t C);
  void (*log_softmax)(const float* x, float* out, int64_t r0, int64_t r1, int64_t C);
  void (*log_softmax_backward)(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1, int64_t C);
  void (*cross_entropy)(const float* logits, const int32_t* targets, float* losses, float* lse, int64_t r0,
                        int64_t r1, int64_t V, int32_t ignore_index, float smoothing);
  void (*cross_entropy_backward)(const float* logits, const float* lse, const int32_t* targets,
                                 const float* dlosses, float* dlogits, int64_t r0, int64_t r1, int64_t V,
                                 int32_t ignore_index, float smoothing);
  void (*layer_norm)(const float* x, const float* weight, const float* bias, float* out, float* mean, float* rstd,
                     int64_t r0, int64_t r1, int64_t C, float eps);
  // dweight/dbias here are the caller's per-block partial buffers (+=); dbias may be null.
  void (*layer_norm_backward)(const float* dout, const float* x, const float* weight, const float* mean,
                              const float* rstd, float* dx, float* dweight, float* dbias, int64_t r0, int64_t r1,
                              int64_t C);
  void (*rms_norm)(const float* x, const float* weight, float* out, float* rstd, int64_t r0, int64_t r1, int64_t C,
                   float eps);
  void (*rms_norm_backward)(const float* dout, const float* x, const float* weight, const float* rstd, float* dx,
                            float* dweight, int64_t r0, int64_t r1, int64_t C);
  // Rows [r0, r1) of the (B*T*H, D) view; row r uses position (r / H) % T of cos/sin (T, D/2).
  void (*rope)(const float* x, float* out, const float* cos, const float* sin, int64_t r0, int64_t r1, int64_t T,
               int64_t H, int64_t D, bool inverse);
  void (*adamw)(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                float eps, float weight_decay, float bc1, float bc2, float grad_scale);
  void (*sgd)(float* param, const float* grad, float* buf, int64_t n, float lr, float momentum, float weight_decay,
              bool nesterov, bool first_step, float grad_scale);
};

const OpsKernels& ops_kernels_scalar();
const OpsKernels& ops_kernels_avx2();
const OpsKernels& ops_kernels_avx512();

// The table for best_isa() (fixed at the first call).
const OpsKernels& ops_kernels();

}  // namespace lf
