// N-API bindings for attention.h (argument orders = Backend.attention / Backend.attentionBackward in
// src/backend/backend.ts).
#include <string>

#include "attention.h"
#include "napi_args.h"

namespace lf {
namespace {

// Reads B, Tq, Tk, Hq, Hkv, D, scale, causal, qOffset, segQ, segK starting at argument `first` and checks the
// head counts.
AttnShape ReadShape(const Args& a, const char* op, size_t first) {
  AttnShape s{};
  s.B = a.size(first);
  s.Tq = a.size(first + 1);
  s.Tk = a.size(first + 2);
  s.Hq = a.size(first + 3);
  s.Hkv = a.size(first + 4);
  s.D = a.size(first + 5);
  s.scale = static_cast<float>(a.num(first + 6));
  s.causal = a.flag(first + 7);
  s.qOffset = a.size(first + 8);
  if (s.Hkv < 1 || s.Hq < 1 || s.Hq % s.Hkv != 0) {
    throw Napi::RangeError::New(a.env(), std::string(op) + ": Hq (" + std::to_string(s.Hq) +
                                             ") must be a positive multiple of Hkv (" + std::to_string(s.Hkv) + ")");
  }
  if (s.Tq > INT32_MAX || s.Tk > INT32_MAX || s.qOffset > INT32_MAX) {
    throw Napi::RangeError::New(a.env(), std::string(op) + ": Tq, Tk and qOffset must be below 2^31");
  }
  s.segQ = a.i32_or_null(first + 9, s.B * s.Tq);
  s.segK = a.i32_or_null(first + 10, s.B * s.Tk);
  return s;
}

Napi::Value Attention(const Napi::CallbackInfo& info) {
  Args a(info, "attention", 16);
  const AttnShape s = ReadShape(a, "attention", 5);
  const int64_t nq = s.B * s.Tq * s.Hq * s.D, nkv = s.B * s.Tk * s.Hkv * s.D;
  const float* q = a.f32(0, nq);
  const float* k = a.f32(1, nkv);
  const float* v = a.f32(2, nkv);
  float* out = a.f32(3, nq);
  float* lse = a.f32(4, s.B * s.Hq * s.Tq);
  attention_forward(s, q, k, v, out, lse);
  return info.Env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionBackward", 20);
  const AttnShape s = ReadShape(a, "attentionBackward", 9);
  const int64_t nq = s.B * s.Tq * s.Hq * s.D, nkv = s.B * s.Tk * s.Hkv * s.D;
  const float* q = a.f32(0, nq);
  const float* k = a.f32(1, nkv);
  const float* v = a.f32(2, nkv);
  const float* out = a.f32(3, nq);
  const float* lse = a.f32(4, s.B * s.Hq * s.Tq);
  const float* dout = a.f32(5, nq);
  float* dq = a.f32(6, nq);
  float* dk = a.f32(7, nkv);
  float* dv = a.f32(8, nkv);
  attention_backward(s, q, k, v, out, lse, dout, dq, dk, dv);
  return info.Env().Undefined();
}

}  // namespace

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
}

}  // namespace lf
