// N-API bindings for the batch-1 decoding kernels of decode.h: gptDecodeBlock, gptDecodeHead, decodeGemv and
// toBf16. A weight argument is a Float32Array (fp32) or a Uint16Array of bfloat16 bits (from toBf16).
#include <string>

#include "decode.h"
#include "napi_args.h"

namespace lf {
namespace {

// Argument i as an (N, K) weight: a Float32Array or a Uint16Array (bf16), with at least N * K elements.
DecodeWeight WeightArg(const Napi::CallbackInfo& info, const char* kernel, size_t i, int64_t N, int64_t K) {
  Napi::Value v = info[i];
  const std::string where = std::string(kernel) + ": argument " + std::to_string(i);
  if (!v.IsTypedArray()) throw Napi::TypeError::New(info.Env(), where + " must be a Float32Array or a Uint16Array (bf16)");
  auto t = v.As<Napi::TypedArray>();
  const napi_typedarray_type type = t.TypedArrayType();
  if (type != napi_float32_array && type != napi_uint16_array) {
    throw Napi::TypeError::New(info.Env(), where + " must be a Float32Array or a Uint16Array (bf16)");
  }
  if (static_cast<int64_t>(t.ElementLength()) < N * K) {
    throw Napi::RangeError::New(info.Env(), where + " has " + std::to_string(t.ElementLength()) +
                                                " elements, needs at least " + std::to_string(N * K));
  }
  auto* base = static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  return DecodeWeight{base, type == napi_uint16_array};
}

// gptDecodeBlock(x, ln1W, ln1B, attnW, attnB, attnProjW, attnProjB, ln2W, ln2B, fcW, fcB, mlpProjW, mlpProjB,
//                kCache, vCache, pos, C, H, F, eps): see gpt_decode_block.
Napi::Value GptDecodeBlock(const Napi::CallbackInfo& info) {
  const char* k = "gptDecodeBlock";
  Args a(info, k, 20);
  const int64_t pos = a.size(15), C = a.size(16), H = a.size(17), F = a.size(18);
  if (C == 0 || H == 0 || C % H != 0 || F == 0) {
    throw Napi::RangeError::New(info.Env(), "gptDecodeBlock: C and F must be positive and C a multiple of H");
  }
  GptBlockWeights w{};
  float* x = a.f32(0, C);
  w.ln1_w = a.f32(1, C);
  w.ln1_b = a.f32_or_null(2, C);
  w.attn = WeightArg(info, k, 3, 3 * C, C);
  w.attn_b = a.f32_or_null(4, 3 * C);
  w.attn_proj = WeightArg(info, k, 5, C, C);
  w.attn_proj_b = a.f32_or_null(6, C);
  w.ln2_w = a.f32(7, C);
  w.ln2_b = a.f32_or_null(8, C);
  w.fc = WeightArg(info, k, 9, F, C);
  w.fc_b = a.f32_or_null(10, F);
  w.mlp_proj = WeightArg(info, k, 11, C, F);
  w.mlp_proj_b = a.f32_or_null(12, C);
  float* kc = a.f32(13, (pos + 1) * C);
  float* vc = a.f32(14, (pos + 1) * C);
  gpt_decode_block(x, w, kc, vc, pos, C, H, F, static_cast<float>(a.num(19)));
  return info.Env().Undefined();
}

// gptDecodeHead(x, lnW, lnB, eps, W, logits, V, C): see gpt_decode_head.
Napi::Value GptDecodeHead(const Napi::CallbackInfo& info) {
  Args a(info, "gptDecodeHead", 8);
  const int64_t V = a.size(6), C = a.size(7);
  const float* x = a.f32(0, C);
  const float* ln_w = a.f32(1, C);
  const float* ln_b = a.f32_or_null(2, C);
  const DecodeWeight W = WeightArg(info, "gptDecodeHead", 4, V, C);
  float* logits = a.f32(5, V);
  gpt_decode_head(x, ln_w, ln_b, static_cast<float>(a.num(3)), W, logits, V, C);
  return info.Env().Undefined();
}

// decodeGemv(W, bias, x, y, N, K): y (N) = bias + W x.
Napi::Value DecodeGemv(const Napi::CallbackInfo& info) {
  Args a(info, "decodeGemv", 6);
  const int64_t N = a.size(4), K = a.size(5);
  const DecodeWeight W = WeightArg(info, "decodeGemv", 0, N, K);
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
  const int64_t n = static_cast<int64_t>(info[0].As<Napi::TypedArray>().ElementLength());
  Napi::Value d = info[1];
  if (!d.IsTypedArray() || d.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
    throw Napi::TypeError::New(info.Env(), "toBf16: argument 1 must be a Uint16Array");
  }
  auto dst = d.As<Napi::Uint16Array>();
  if (static_cast<int64_t>(dst.ElementLength()) != n) {
    throw Napi::RangeError::New(info.Env(), "toBf16: src has " + std::to_string(n) + " elements but dst has " +
                                                std::to_string(dst.ElementLength()));
  }
  f32_to_bf16(src, dst.Data(), n);
  return info.Env().Undefined();
}

}  // namespace

void RegisterDecode(Napi::Env env, Napi::Object exports) {
  exports.Set("gptDecodeBlock", Napi::Function::New(env, GptDecodeBlock, "gptDecodeBlock"));
  exports.Set("gptDecodeHead", Napi::Function::New(env, GptDecodeHead, "gptDecodeHead"));
  exports.Set("decodeGemv", Napi::Function::New(env, DecodeGemv, "decodeGemv"));
  exports.Set("toBf16", Napi::Function::New(env, ToBf16, "toBf16"));
}

}  // namespace lf
