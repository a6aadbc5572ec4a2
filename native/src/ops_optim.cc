// Drivers for the in-place optimizer steps (AdamW, SGD with momentum): the step's scalars (bias corrections)
// are computed once in double here, and the flat parameter range is split over the thread pool.
#include <cmath>

#include "ops.h"
#include "ops_isa.h"
#include "thread_pool.h"

namespace lf {

namespace {
constexpr int64_t kSpan = 1 << 15;
}  // namespace

void adamw_step(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                float eps, float weight_decay, int64_t step, float grad_scale) {
  const auto& k = ops_kernels();
  const float bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(step)));
  const float bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(step)));
  parallel_for(n, kSpan, [&](int64_t b, int64_t e) {
    k.adamw(param + b, grad + b, m + b, v + b, e - b, lr, beta1, beta2, eps, weight_decay, bc1, bc2, grad_scale);
  });
}

void sgd_step(float* param, const float* grad, float* buf, int64_t n, float lr, float momentum, float weight_decay,
              bool nesterov, bool first_step, float grad_scale) {
  const auto& k = ops_kernels();
  parallel_for(n, kSpan, [&](int64_t b, int64_t e) {
    k.sgd(param + b, grad + b, buf + b, e - b, lr, momentum, weight_decay, nesterov, first_step, grad_scale);
  });
}

}  // namespace lf
