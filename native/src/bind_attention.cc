// N-API bindings for attention.h (argument orders = Backend.attention / Backend.attentionBackward /
// Backend.attentionQKV / Backend.attentionQKVBackward in src/backend/backend.ts).
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
  return s;  // dense rows (ldq = ldkv = ldo = 0)
}

// Reads B, T, H, D, scale, causal starting at argument `first`: causal self-attention over a packed (B, T, 3C)
// projection (q, k, v at column offsets 0, C, 2C; C = H * D), no KV cache, no segments.
AttnShape ReadPackedShape(const Args& a, const char* op, size_t first) {
  AttnShape s{};
  s.B = a.size(first);
  s.Tq = s.Tk = a.size(first + 1);
  s.Hq = s.Hkv = a.size(first + 2);
  s.D = a.size(first + 3);
  s.scale = static_cast<float>(a.num(first + 4));
  s.causal = a.flag(first + 5);
  if (s.Hq < 1 || s.Tq > INT32_MAX) {
    throw Napi::RangeError::New(a.env(), std::string(op) + ": H must be positive and T below 2^31");
  }
  s.ldq = s.ldkv = 3 * s.Hq * s.D;
  s.ldo = s.Hq * s.D;
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

Napi::Value AttentionQKV(const Napi::CallbackInfo& info) {
  Args a(info, "attentionQKV", 9);
  const AttnShape s = ReadPackedShape(a, "attentionQKV", 3);
  const int64_t C = s.Hq * s.D, rows = s.B * s.Tq;
  const float* qkv = a.f32(0, rows * 3 * C);
  float* out = a.f32(1, rows * C);
  float* lse = a.f32(2, s.B * s.Hq * s.Tq);
  attention_forward(s, qkv, qkv + C, qkv + 2 * C, out, lse);
  return info.Env().Undefined();
}

Napi::Value AttentionQKVBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionQKVBackward", 11);
  const AttnShape s = ReadPackedShape(a, "attentionQKVBackward", 5);
  const int64_t C = s.Hq * s.D, rows = s.B * s.Tq;
  const float* qkv = a.f32(0, rows * 3 * C);
  const float* out = a.f32(1, rows * C);
  const float* lse = a.f32(2, s.B * s.Hq * s.Tq);
  const float* dout = a.f32(3, rows * C);
  float* dqkv = a.f32(4, rows * 3 * C);
  attention_backward(s, qkv, qkv + C, qkv + 2 * C, out, lse, dout, dqkv, dqkv + C, dqkv + 2 * C);
  return info.Env().Undefined();
}

}  // namespace

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
  exports.Set("attentionQKV", Napi::Function::New(env, AttentionQKV, "attentionQKV"));
  exports.Set("attentionQKVBackward", Napi::Function::New(env, AttentionQKVBackward, "attentionQKVBackward"));
}

}  // namespace lf
