// Entry point of the native addon: registers each kernel group's bindings (bind_*.cc) and the thread pool and
// CPU-feature queries. The exported function names and argument orders are exactly the `Backend` interface of
// src/backend/backend.ts, so the TypeScript side wraps nothing.
#include <napi.h>

#include "cpu.h"
#include "gemm.h"
#include "napi_args.h"
#include "thread_pool.h"

namespace lf {
void RegisterGemm(Napi::Env env, Napi::Object exports);
void RegisterOps(Napi::Env env, Napi::Object exports);
void RegisterAttention(Napi::Env env, Napi::Object exports);
void RegisterDecode(Napi::Env env, Napi::Object exports);
}  // namespace lf

namespace {

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), lf::num_threads());
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  lf::Args a(info, "setNumThreads", 1);
  int64_t n = a.size(0);
  if (n < 1 || n > 256) throw Napi::RangeError::New(info.Env(), "setNumThreads: n must be in [1, 256]");
  lf::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("avx2", lf::cpu_has_avx2());
  o.Set("avx512", lf::cpu_has_avx512());
  o.Set("avx512bf16", lf::cpu_has_avx512bf16());
  o.Set("amxBf16", lf::amx_bf16_ready());
  o.Set("isa", lf::cpu_isa_name());
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("numThreads", Napi::Function::New(env, NumThreads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  lf::RegisterGemm(env, exports);
  lf::RegisterOps(env, exports);
  lf::RegisterAttention(env, exports);
  lf::RegisterDecode(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(llmforge_native, Init)
