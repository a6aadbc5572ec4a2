// N-API bindings for gemm and gemmBf16 (argument order = Backend.gemm in src/backend/backend.ts).
#include "gemm.h"
#include "napi_args.h"

namespace lf {
namespace {

// Reads and checks the 13 arguments shared by gemm and gemmBf16.
GemmArgs ParseGemm(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name, 13);
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
  return g;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  sgemm(ParseGemm(info, "gemm"));
  return info.Env().Undefined();
}

// Same contract as gemm, in reduced precision (bf16 inputs, fp32 accumulation): see sgemm_bf16 in gemm.h.
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  sgemm_bf16(ParseGemm(info, "gemmBf16"));
  return info.Env().Undefined();
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("gemmBf16", Napi::Function::New(env, GemmBf16, "gemmBf16"));
}

}  // namespace lf
