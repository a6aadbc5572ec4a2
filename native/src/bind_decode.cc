// N-API bindings for the batch-1 decoding kernels of decode.h: gptDecodeBlock, gptDecodeHead, llamaDecodeBlock,
// llamaDecodeHead, decodeGemv and toBf16. A weight argument is a Float32Array (fp32) or a Uint16Array of bfloat16
// bits (from toBf16); biases may be null.
#include <string>

#include "decode.h"
#include "napi_args.h"

namespace lf {
namespace {

// Argument i as an (N, K) weight: a Float32Array or a Uint16Array (bf16), with at least N * K elements.
DecodeWeight WeightArg(const Args& a, size_t i, int64_t N, int64_t K) {
  bool bf16 = false;
  const void* data = a.f32_or_u16(i, N * K, &bf16);
  return DecodeWeight{data, bf16};
}

[[noreturn]] void Fail(const Args& a, const std::string& message) { throw Napi::RangeError::New(a.env(), message); }

// gptDecodeBlock(x, ln1W, ln1B, attnW, attnB, attnProjW, attnProjB, ln2W, ln2B, fcW, fcB, mlpProjW, mlpProjB,
//                kCache, vCache, pos, C, H, F, eps): see gpt_decode_block.
Napi::Value GptDecodeBlock(const Napi::CallbackInfo& info) {
  Args a(info, "gptDecodeBlock", 20);
  const int64_t pos = a.size(15), C = a.size(16), H = a.size(17), F = a.size(18);
  if (C == 0 || H == 0 || C % H != 0 || F == 0) Fail(a, "gptDecodeBlock: C and F must be positive and C a multiple of H");
  GptBlockWeights w{};
  float* x = a.f32(0, C);
  w.ln1_w = a.f32(1, C);
  w.ln1_b = a.f32_or_null(2, C);
  w.attn = WeightArg(a, 3, 3 * C, C);
  w.attn_b = a.f32_or_null(4, 3 * C);
  w.attn_proj = WeightArg(a, 5, C, C);
  w.attn_proj_b = a.f32_or_null(6, C);
  w.ln2_w = a.f32(7, C);
  w.ln2_b = a.f32_or_null(8, C);
  w.fc = WeightArg(a, 9, F, C);
  w.fc_b = a.f32_or_null(10, F);
  w.mlp_proj = WeightArg(a, 11, C, F);
  w.mlp_proj_b = a.f32_or_null(12, C);
  float* kc = a.f32(13, (pos + 1) * C);
  float* vc = a.f32(14, (pos + 1) * C);
  gpt_decode_block(x, w, kc, vc, pos, C, H, F, static_cast<float>(a.num(19)));
  return info.Env().Undefined();
}

// llamaDecodeBlock(x, ln1W, qW, qB, kW, kB, vW, vB, oW, oB, ln2W, gateW, gateB, upW, upB, downW, downB, kCache,
//                  vCache, cos, sin, pos, C, H, Hkv, D, F, eps): see llama_decode_block.
Napi::Value LlamaDecodeBlock(const Napi::CallbackInfo& info) {
  Args a(info, "llamaDecodeBlock", 28);
  LlamaBlockShape s{};
  const int64_t pos = a.size(21);
  s.C = a.size(22);
  s.H = a.size(23);
  s.Hkv = a.size(24);
  s.D = a.size(25);
  s.F = a.size(26);
  s.eps = static_cast<float>(a.num(27));
  if (s.C == 0 || s.F == 0 || s.D == 0 || s.D % 2 != 0 || s.Hkv == 0 || s.H % s.Hkv != 0 || s.H == 0) {
    Fail(a, "llamaDecodeBlock: C, F and an even D must be positive and H a positive multiple of Hkv; received C " +
                std::to_string(s.C) + ", H " + std::to_string(s.H) + ", Hkv " + std::to_string(s.Hkv) + ", D " +
                std::to_string(s.D) + ", F " + std::to_string(s.F));
  }
  if (pos >= INT32_MAX) Fail(a, "llamaDecodeBlock: pos must be below 2^31");
  const int64_t Q = s.H * s.D, KV = s.Hkv * s.D;
  LlamaBlockWeights w{};
  float* x = a.f32(0, s.C);
  w.ln1_w = a.f32(1, s.C);
  w.q = WeightArg(a, 2, Q, s.C);
  w.q_b = a.f32_or_null(3, Q);
  w.k = WeightArg(a, 4, KV, s.C);
  w.k_b = a.f32_or_null(5, KV);
  w.v = WeightArg(a, 6, KV, s.C);
  w.v_b = a.f32_or_null(7, KV);
  w.o = WeightArg(a, 8, s.C, Q);
  w.o_b = a.f32_or_null(9, s.C);
  w.ln2_w = a.f32(10, s.C);
  w.gate = WeightArg(a, 11, s.F, s.C);
  w.gate_b = a.f32_or_null(12, s.F);
  w.up = WeightArg(a, 13, s.F, s.C);
  w.up_b = a.f32_or_null(14, s.F);
  w.down = WeightArg(a, 15, s.C, s.F);
  w.down_b = a.f32_or_null(16, s.C);
  if (w.gate.bf16 != w.up.bf16) Fail(a, "llamaDecodeBlock: gateW and upW must have the same precision");
  float* kc = a.f32(17, (pos + 1) * KV);
  float* vc = a.f32(18, (pos + 1) * KV);
  const float* cos = a.f32(19, s.D / 2);
  const float* sin = a.f32(20, s.D / 2);
  llama_decode_block(x, w, s, cos, sin, kc, vc, pos);
  return info.Env().Undefined();
}

// gptDecodeHead(x, lnW, lnB, eps, W, logits, V, C): see gpt_decode_head.
Napi::Value GptDecodeHead(const Napi::CallbackInfo& info) {
  Args a(info, "gptDecodeHead", 8);
  const int64_t V = a.size(6), C = a.size(7);
  const float* x = a.f32(0, C);
  const float* ln_w = a.f32(1, C);
  const float* ln_b = a.f32_or_null(2, C);
  const DecodeWeight W = WeightArg(a, 4, V, C);
  float* logits = a.f32(5, V);
  gpt_decode_head(x, ln_w, ln_b, static_cast<float>(a.num(3)), W, logits, V, C);
  return info.Env().Undefined();
}

// llamaDecodeHead(x, normW, eps, W, logits, V, C): see llama_decode_head.
Napi::Value LlamaDecodeHead(const Napi::CallbackInfo& info) {
  Args a(info, "llamaDecodeHead", 7);
  const int64_t V = a.size(5), C = a.size(6);
  const float* x = a.f32(0, C);
  const float* norm_w = a.f32(1, C);
  const DecodeWeight W = WeightArg(a, 3, V, C);
  float* logits = a.f32(4, V);
  llama_decode_head(x, norm_w, static_cast<float>(a.num(2)), W, logits, V, C);
  return info.Env().Undefined();
}

// decodeGemv(W, bias, x, y, N, K): y (N) = bias + W x.
Napi::Value DecodeGemv(const Napi::CallbackInfo& info) {
  Args a(info, "decodeGemv", 6);
  const int64_t N = a.size(4), K = a.size(5);
  const DecodeWeight W = WeightArg(a, 0, N, K);
  const float* bias = a.f32_or_null(1, N);
  const float* x = a.f32(2, K);
  float* y = a.f32(3, N);
  decode_gemv(W, bias, x, y, N, K);
  return info.Env().Undefined();
}

// toBf16(src Float32Array, dst Uint16Array): dst[i] = bfloat16(src[i]), round to nearest even.
Napi::Value ToBf16(const Napi::CallbackInfo& info) {
  Args a(info, "toBf16", 2);
  const float* src = a.f32(0);
  uint16_t* dst = a.u16(1);
  const int64_t n = a.length(0);
  if (a.length(1) != n) {
    Fail(a, "toBf16: src has " + std::to_string(n) + " elements but dst has " + std::to_string(a.length(1)));
  }
  f32_to_bf16(src, dst, n);
  return info.Env().Undefined();
}

}  // namespace

void RegisterDecode(Napi::Env env, Napi::Object exports) {
  exports.Set("gptDecodeBlock", Napi::Function::New(env, GptDecodeBlock, "gptDecodeBlock"));
  exports.Set("gptDecodeHead", Napi::Function::New(env, GptDecodeHead, "gptDecodeHead"));
  exports.Set("llamaDecodeBlock", Napi::Function::New(env, LlamaDecodeBlock, "llamaDecodeBlock"));
  exports.Set("llamaDecodeHead", Napi::Function::New(env, LlamaDecodeHead, "llamaDecodeHead"));
  exports.Set("decodeGemv", Napi::Function::New(env, DecodeGemv, "decodeGemv"));
  exports.Set("toBf16", Napi::Function::New(env, ToBf16, "toBf16"));
}

}  // namespace lf
