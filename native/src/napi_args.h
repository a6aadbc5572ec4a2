// Argument checking for the one thin N-API layer (bind_*.cc). Kernels never see a JS value: each binding
// pulls raw pointers and sizes out of the call with these helpers, which throw a TypeError/RangeError that
// names the kernel, the argument position, what was expected and what was received.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace lf {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel, size_t count) : info_(info), kernel_(kernel) {
    if (info.Length() < count) {
      throw Napi::TypeError::New(info.Env(), std::string(kernel_) + ": expected " + std::to_string(count) +
                                                 " arguments, received " + std::to_string(info.Length()));
    }
  }

  // A Float32Array with at least `min_len` elements.
  float* f32(size_t i, int64_t min_len = 0) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail(i, "a Float32Array", describe(v));
    }
    auto a = v.As<Napi::Float32Array>();
    check_len(i, a.ElementLength(), min_len);
    return a.Data();
  }
  // A Float32Array or null (returns nullptr).
  float* f32_or_null(size_t i, int64_t min_len = 0) const {
    if (info_[i].IsNull() || info_[i].IsUndefined()) return nullptr;
    return f32(i, min_len);
  }
  int32_t* i32(size_t i, int64_t min_len = 0) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      fail(i, "an Int32Array", describe(v));
    }
    auto a = v.As<Napi::Int32Array>();
    check_len(i, a.ElementLength(), min_len);
    return a.Data();
  }
  int32_t* i32_or_null(size_t i, int64_t min_len = 0) const {
    if (info_[i].IsNull() || info_[i].IsUndefined()) return nullptr;
    return i32(i, min_len);
  }
  uint8_t* u8(size_t i, int64_t min_len = 0) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      fail(i, "a Uint8Array", describe(v));
    }
    auto a = v.As<Napi::Uint8Array>();
    check_len(i, a.ElementLength(), min_len);
    return a.Data();
  }
  uint16_t* u16(size_t i, int64_t min_len = 0) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
      fail(i, "a Uint16Array", describe(v));
    }
    auto a = v.As<Napi::Uint16Array>();
    check_len(i, a.ElementLength(), min_len);
    return a.Data();
  }
  // A Float32Array or a Uint16Array (bfloat16 bits) with at least `min_len` elements; *is_u16 says which.
  void* f32_or_u16(size_t i, int64_t min_len, bool* is_u16) const {
    Napi::Value v = info_[i];
    const napi_typedarray_type t = v.IsTypedArray() ? v.As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
    if (t != napi_float32_array && t != napi_uint16_array) fail(i, "a Float32Array or a Uint16Array (bf16)", describe(v));
    *is_u16 = t == napi_uint16_array;
    if (*is_u16) return u16(i, min_len);
    return f32(i, min_len);
  }
  // The element count of typed array argument i (checked by f32, u16, ... first).
  int64_t length(size_t i) const { return static_cast<int64_t>(info_[i].As<Napi::TypedArray>().ElementLength()); }
  double num(size_t i) const {
    Napi::Value v = info_[i];
    if (!v.IsNumber()) fail(i, "a number", describe(v));
    return v.As<Napi::Number>().DoubleValue();
  }
  // A non-negative integer-valued number.
  int64_t size(size_t i) const {
    double d = num(i);
    if (d < 0 || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw Napi::RangeError::New(info_.Env(), std::string(kernel_) + ": argument " + std::to_string(i) +
                                                   " must be a non-negative integer, received " + std::to_string(d));
    }
    return static_cast<int64_t>(d);
  }
  bool flag(size_t i) const {
    Napi::Value v = info_[i];
    if (!v.IsBoolean()) fail(i, "a boolean", describe(v));
    return v.As<Napi::Boolean>().Value();
  }
  Napi::Env env() const { return info_.Env(); }

 private:
  [[noreturn]] void fail(size_t i, const char* expected, const std::string& got) const {
    throw Napi::TypeError::New(info_.Env(), std::string(kernel_) + ": argument " + std::to_string(i) +
                                                " must be " + expected + ", received " + got);
  }
  void check_len(size_t i, size_t len, int64_t min_len) const {
    if (static_cast<int64_t>(len) < min_len) {
      throw Napi::RangeError::New(info_.Env(), std::string(kernel_) + ": argument " + std::to_string(i) +
                                                   " has " + std::to_string(len) + " elements, needs at least " +
                                                   std::to_string(min_len));
    }
  }
  static std::string describe(const Napi::Value& v) {
    if (v.IsNull()) return "null";
    if (v.IsUndefined()) return "undefined";
    if (v.IsNumber()) return "a number";
    if (v.IsBoolean()) return "a boolean";
    if (v.IsString()) return "a string";
    if (v.IsTypedArray()) {
      switch (v.As<Napi::TypedArray>().TypedArrayType()) {
        case napi_float32_array: return "a Float32Array";
        case napi_float64_array: return "a Float64Array";
        case napi_int32_array: return "an Int32Array";
        case napi_uint8_array: return "a Uint8Array";
        case napi_uint16_array: return "a Uint16Array";
        default: return "another typed array";
      }
    }
    if (v.IsArray()) return "an Array";
    return "an object";
  }

  const Napi::CallbackInfo& info_;
  const char* kernel_;
};

}  // namespace lf
