// N-API binding for gemm (argument order = Backend.gemm in src/backend/backend.ts).
#include "gemm.h"
#include "napi_args.h"

namespace lf {
namespace {

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm", 13);
  GemmArgs g{};
  g.batch = a.size(3);
  g.M = a.size(4);
  g.N = a.size(5);
  g.K = a.size(6);
  g.transA = a.flag(7);
  g.transB = a.flag(8);
  g.strideA = a.size(9);
  g.strideB = a.size(10);
  g.strideC = a.size(11);
  g.beta = static_cast<float>(a.num(12));
  const int64_t last = g.batch > 0 ? g.batch - 1 : 0;
  g.A = a.f32(0, g.batch ? last * g.strideA + g.M * g.K : 0);
  g.B = a.f32(1, g.batch ? last * g.strideB + g.K * g.N : 0);
  g.C = a.f32(2, g.batch ? last * g.strideC + g.M * g.N : 0);
  sgemm(g);
  return info.Env().Undefined();
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
}

}  // namespace lf
