// N-API bindings for the kernels of ops.h; names and argument orders are exactly the Backend interface of
// src/backend/backend.ts. This is the only place ops see JS values: every array is type- and length-checked,
// every index array (targets, ids, idx) and every strided access range is bounds-checked, and op codes,
// probabilities and shapes are range-checked, with a TypeError/RangeError that names the kernel and argument.
#include <cmath>
#include <string>

#include "napi_args.h"
#include "ops.h"

namespace lf {
namespace {

constexpr int64_t kMaxSafe = int64_t{1} << 53;

[[noreturn]] void range_error(const Args& a, const std::string& msg) { throw Napi::RangeError::New(a.env(), msg); }

// a * b for sizes, with a RangeError instead of overflow.
int64_t mul(const Args& a, const char* kernel, int64_t x, int64_t y) {
  int64_t r = 0;
  if (__builtin_mul_overflow(x, y, &r) || r > kMaxSafe) range_error(a, std::string(kernel) + ": sizes are too large");
  return r;
}

int64_t typed_length(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::TypedArray>().ElementLength());
}

// An integer-valued number (may be negative), as for ignoreIndex.
int32_t int32_arg(const Args& a, size_t i, const char* kernel) {
  const double d = a.num(i);
  if (d != std::floor(d) || d < -2147483648.0 || d > 2147483647.0) {
    range_error(a, std::string(kernel) + ": argument " + std::to_string(i) + " must be an int32, received " +
                       std::to_string(d));
  }
  return static_cast<int32_t>(d);
}

// ToUint32 of a JS number (what `seed >>> 0` does in hash.ts).
uint32_t uint32_arg(const Args& a, size_t i) {
  double d = a.num(i);
  if (!std::isfinite(d)) return 0;
  d = std::fmod(std::trunc(d), 4294967296.0);
  if (d < 0) d += 4294967296.0;
  return static_cast<uint32_t>(d);
}

// Every index in [0, limit), or equal to `ignore` when allowed.
void check_indices(const Args& a, const char* kernel, const char* what, const int32_t* ids, int64_t n, int64_t limit,
                   bool has_ignore = false, int32_t ignore = 0) {
  for (int64_t r = 0; r < n; ++r) {
    const int32_t t = ids[r];
    if (has_ignore && t == ignore) continue;
    if (t < 0 || t >= limit) {
      range_error(a, std::string(kernel) + ": " + what + "[" + std::to_string(r) + "] = " + std::to_string(t) +
                         " is out of range [0, " + std::to_string(limit) + ")" +
                         (has_ignore ? " and is not ignoreIndex " + std::to_string(ignore) : std::string()));
    }
  }
}

struct Strided {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t numel = 1;
};

// Reads the shape Int32Array at `i` (rank <= MAX_RANK, entries >= 0).
Strided read_shape(const Napi::CallbackInfo& info, const Args& a, size_t i, const char* kernel) {
  const int32_t* s = a.i32(i);
  const int64_t rank = typed_length(info, i);
  if (rank > kMaxRank) {
    range_error(a, std::string(kernel) + ": shape has rank " + std::to_string(rank) + ", the maximum is " +
                       std::to_string(kMaxRank));
  }
  Strided st;
  st.rank = static_cast<int>(rank);
  for (int d = 0; d < st.rank; ++d) {
    if (s[d] < 0) range_error(a, std::string(kernel) + ": shape[" + std::to_string(d) + "] is negative");
    st.shape[d] = s[d];
    st.numel = mul(a, kernel, st.numel, s[d]);
  }
  return st;
}

// Reads a strides Int32Array of the shape's rank at `i` and checks offset + sum(idx * stride) stays inside the
// Float32Array at `arr` for every index of the shape.
void read_strides(const Napi::CallbackInfo& info, const Args& a, size_t i, size_t arr, int64_t offset,
                  const Strided& st, const char* kernel, const char* name, int64_t* out) {
  const int32_t* s = a.i32(i);
  if (typed_length(info, i) != st.rank) {
    range_error(a, std::string(kernel) + ": " + name + " has " + std::to_string(typed_length(info, i)) +
                       " entries, expected the shape's rank " + std::to_string(st.rank));
  }
  int64_t lo = offset, hi = offset;
  for (int d = 0; d < st.rank; ++d) {
    out[d] = s[d];
    const int64_t span = (st.shape[d] > 0 ? st.shape[d] - 1 : 0) * static_cast<int64_t>(s[d]);
    if (span > 0) hi += span; else lo += span;
  }
  a.f32(arr);
  if (st.numel > 0 && (lo < 0 || hi >= typed_length(info, arr))) {
    range_error(a, std::string(kernel) + ": " + name + " reach elements [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "] but argument " + std::to_string(arr) + " has " +
                       std::to_string(typed_length(info, arr)) + " elements");
  }
}

Napi::Value Undef(const Args& a) { return a.env().Undefined(); }

// ---- elementwise ---------------------------------------------------------------------------------------------

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary", 4);
  const int64_t op = a.size(0), n = a.size(3);
  if (op >= kUnaryOpCount) range_error(a, "unary: op " + std::to_string(op) + " is not a Unary code (0.." + std::to_string(kUnaryOpCount - 1) + ")");
  unary_forward(static_cast<UnaryOp>(op), a.f32(1, n), a.f32(2, n), n);
  return Undef(a);
}

Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  Args a(info, "unaryBackward", 6);
  const int64_t op = a.size(0), n = a.size(5);
  if (op >= kUnaryOpCount) range_error(a, "unaryBackward: op " + std::to_string(op) + " is not a Unary code (0.." + std::to_string(kUnaryOpCount - 1) + ")");
  unary_backward(static_cast<UnaryOp>(op), a.f32(1, n), a.f32(2, n), a.f32(3, n), a.f32(4, n), n);
  return Undef(a);
}

Napi::Value Affine(const Napi::CallbackInfo& info) {
  Args a(info, "affine", 5);
  const int64_t n = a.size(2);
  affine_forward(a.f32(0, n), a.f32(1, n), n, static_cast<float>(a.num(3)), static_cast<float>(a.num(4)));
  return Undef(a);
}

Napi::Value PowScalar(const Napi::CallbackInfo& info) {
  Args a(info, "powScalar", 4);
  const int64_t n = a.size(2);
  pow_scalar_forward(a.f32(0, n), a.f32(1, n), n, static_cast<float>(a.num(3)));
  return Undef(a);
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary", 7);
  const int64_t op = a.size(0);
  if (op >= kBinaryOpCount) range_error(a, "binary: op " + std::to_string(op) + " is not a Binary code (0.." + std::to_string(kBinaryOpCount - 1) + ")");
  const Strided st = read_shape(info, a, 6, "binary");
  int64_t as[kMaxRank], bs[kMaxRank];
  read_strides(info, a, 2, 1, 0, st, "binary", "aStrides", as);
  read_strides(info, a, 4, 3, 0, st, "binary", "bStrides", bs);
  binary_forward(static_cast<BinaryOp>(op), a.f32(1), as, a.f32(3), bs, a.f32(5, st.numel), st.shape, st.rank);
  return Undef(a);
}

Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  Args a(info, "copyStrided", 7);
  const Strided st = read_shape(info, a, 6, "copyStrided");
  const int64_t so = a.size(1), dof = a.size(4);
  int64_t ss[kMaxRank], ds[kMaxRank];
  read_strides(info, a, 2, 0, so, st, "copyStrided", "srcStrides", ss);
  read_strides(info, a, 5, 3, dof, st, "copyStrided", "dstStrides", ds);
  copy_strided(a.f32(0), so, ss, a.f32(3), dof, ds, st.shape, st.rank);
  return Undef(a);
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  Args a(info, "where", 5);
  const int64_t n = a.size(4);
  where_forward(a.u8(0, n), a.f32(1, n), a.f32(2, n), a.f32(3, n), n);
  return Undef(a);
}

Napi::Value MaskedFill(const Napi::CallbackInfo& info) {
  Args a(info, "maskedFill", 5);
  const int64_t n = a.size(4);
  masked_fill_forward(a.f32(0, n), a.u8(1, n), static_cast<float>(a.num(2)), a.f32(3, n), n);
  return Undef(a);
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Args a(info, "dropout", 5);
  const int64_t n = a.size(2);
  const double p = a.num(3);
  if (!(p >= 0.0 && p <= 1.0)) range_error(a, "dropout: p must be in [0, 1], received " + std::to_string(p));
  dropout_forward(a.f32(0, n), a.f32(1, n), n, p, uint32_arg(a, 4));
  return Undef(a);
}

// ---- reductions ----------------------------------------------------------------------------------------------

Napi::Value SumAxis(const Napi::CallbackInfo& info) {
  Args a(info, "sumAxis", 5);
  const int64_t outer = a.size(2), dim = a.size(3), inner = a.size(4);
  const int64_t oi = mul(a, "sumAxis", outer, inner);
  sum_axis(a.f32(0, mul(a, "sumAxis", oi, dim)), a.f32(1, oi), outer, dim, inner);
  return Undef(a);
}

Napi::Value MaxAxis(const Napi::CallbackInfo& info) {
  Args a(info, "maxAxis", 6);
  const int64_t outer = a.size(3), dim = a.size(4), inner = a.size(5);
  const int64_t oi = mul(a, "maxAxis", outer, inner);
  if (dim == 0 && oi > 0) range_error(a, "maxAxis: dim must be at least 1 (the max of an empty axis is undefined)");
  const float* x = a.f32(0, mul(a, "maxAxis", oi, dim));
  float* out = a.f32(1, oi);
  int32_t* arg = a.i32(2, oi);
  if (oi > 0) max_axis(x, out, arg, outer, dim, inner);
  return Undef(a);
}

Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares", 2);
  const int64_t n = a.size(1);
  return Napi::Number::New(info.Env(), sum_squares(a.f32(0, n), n));
}

// ---- softmax family ------------------------------------------------------------------------------------------

template <void (*Fn)(const float*, float*, int64_t, int64_t)>
Napi::Value RowsForward(const Napi::CallbackInfo& info, const char* kernel) {
  Args a(info, kernel, 4);
  const int64_t N = a.size(2), C = a.size(3), n = mul(a, kernel, N, C);
  Fn(a.f32(0, n), a.f32(1, n), N, C);
  return Undef(a);
}

template <void (*Fn)(const float*, const float*, float*, int64_t, int64_t)>
Napi::Value RowsBackward(const Napi::CallbackInfo& info, const char* kernel) {
  Args a(info, kernel, 5);
  const int64_t N = a.size(3), C = a.size(4), n = mul(a, kernel, N, C);
  Fn(a.f32(0, n), a.f32(1, n), a.f32(2, n), N, C);
  return Undef(a);
}

Napi::Value Softmax(const Napi::CallbackInfo& info) { return RowsForward<softmax_forward>(info, "softmax"); }
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) { return RowsBackward<softmax_backward>(info, "softmaxBackward"); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) { return RowsForward<log_softmax_forward>(info, "logSoftmax"); }
Napi::Value LogSoftmaxBackward(const Napi::CallbackInfo& info) { return RowsBackward<log_softmax_backward>(info, "logSoftmaxBackward"); }

float smoothing_arg(const Args& a, size_t i, const char* kernel) {
  const double s = a.num(i);
  if (!(s >= 0.0 && s <= 1.0)) range_error(a, std::string(kernel) + ": labelSmoothing must be in [0, 1], received " + std::to_string(s));
  return static_cast<float>(s);
}

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropy", 8);
  const int64_t N = a.size(4), V = a.size(5), n = mul(a, "crossEntropy", N, V);
  const int32_t ignore = int32_arg(a, 6, "crossEntropy");
  const float s = smoothing_arg(a, 7, "crossEntropy");
  const float* logits = a.f32(0, n);
  const int32_t* targets = a.i32(1, N);
  float* losses = a.f32(2, N);
  float* lse = a.f32(3, N);
  check_indices(a, "crossEntropy", "targets", targets, N, V, true, ignore);
  if (V == 0 && N > 0) range_error(a, "crossEntropy: V must be at least 1");
  crossentropy_forward(logits, targets, losses, lse, N, V, ignore, s);
  return Undef(a);
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Args a(info, "crossEntropyBackward", 9);
  const int64_t N = a.size(5), V = a.size(6), n = mul(a, "crossEntropyBackward", N, V);
  const int32_t ignore = int32_arg(a, 7, "crossEntropyBackward");
  const float s = smoothing_arg(a, 8, "crossEntropyBackward");
  const float* logits = a.f32(0, n);
  const float* lse = a.f32(1, N);
  const int32_t* targets = a.i32(2, N);
  const float* dlosses = a.f32(3, N);
  float* dlogits = a.f32(4, n);
  check_indices(a, "crossEntropyBackward", "targets", targets, N, V, true, ignore);
  crossentropy_backward(logits, lse, targets, dlosses, dlogits, N, V, ignore, s);
  return Undef(a);
}

// ---- embedding and gathers -----------------------------------------------------------------------------------

// Rows of the (V, C) table at argument `i` (any id is fine for C == 0).
int64_t table_rows(const Napi::CallbackInfo& info, size_t i, int64_t C) {
  return C == 0 ? int64_t{1} << 31 : typed_length(info, i) / C;
}

Napi::Value Embedding(const Napi::CallbackInfo& info) {
  Args a(info, "embedding", 5);
  const int64_t N = a.size(3), C = a.size(4);
  const float* weight = a.f32(0);
  const int32_t* ids = a.i32(1, N);
  float* out = a.f32(2, mul(a, "embedding", N, C));
  check_indices(a, "embedding", "ids", ids, N, table_rows(info, 0, C));
  embedding_forward(weight, ids, out, N, C);
  return Undef(a);
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Args a(info, "embeddingBackward", 5);
  const int64_t N = a.size(3), C = a.size(4);
  const float* dout = a.f32(0, mul(a, "embeddingBackward", N, C));
  const int32_t* ids = a.i32(1, N);
  float* dweight = a.f32(2);
  check_indices(a, "embeddingBackward", "ids", ids, N, table_rows(info, 2, C));
  embedding_backward(dout, ids, dweight, N, C);
  return Undef(a);
}

Napi::Value GatherLast(const Napi::CallbackInfo& info) {
  Args a(info, "gatherLast", 5);
  const int64_t N = a.size(3), V = a.size(4);
  const float* x = a.f32(0, mul(a, "gatherLast", N, V));
  const int32_t* idx = a.i32(1, N);
  float* out = a.f32(2, N);
  check_indices(a, "gatherLast", "idx", idx, N, V);
  gather_last_forward(x, idx, out, N, V);
  return Undef(a);
}

Napi::Value GatherLastBackward(const Napi::CallbackInfo& info) {
  Args a(info, "gatherLastBackward", 5);
  const int64_t N = a.size(3), V = a.size(4);
  const float* dout = a.f32(0, N);
  const int32_t* idx = a.i32(1, N);
  float* dx = a.f32(2, mul(a, "gatherLastBackward", N, V));
  check_indices(a, "gatherLastBackward", "idx", idx, N, V);
  gather_last_backward(dout, idx, dx, N, V);
  return Undef(a);
}

// ---- normalization and rope ----------------------------------------------------------------------------------

Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm", 9);
  const int64_t N = a.size(6), C = a.size(7), n = mul(a, "layerNorm", N, C);
  layernorm_forward(a.f32(0, n), a.f32(1, C), a.f32_or_null(2, C), a.f32(3, n), a.f32(4, N), a.f32(5, N), N, C,
                    static_cast<float>(a.num(8)));
  return Undef(a);
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward", 10);
  const int64_t N = a.size(8), C = a.size(9), n = mul(a, "layerNormBackward", N, C);
  layernorm_backward(a.f32(0, n), a.f32(1, n), a.f32(2, C), a.f32(3, N), a.f32(4, N), a.f32(5, n), a.f32(6, C),
                     a.f32_or_null(7, C), N, C);
  return Undef(a);
}

Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNorm", 7);
  const int64_t N = a.size(4), C = a.size(5), n = mul(a, "rmsNorm", N, C);
  rmsnorm_forward(a.f32(0, n), a.f32(1, C), a.f32(2, n), a.f32(3, N), N, C, static_cast<float>(a.num(6)));
  return Undef(a);
}

Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormBackward", 8);
  const int64_t N = a.size(6), C = a.size(7), n = mul(a, "rmsNormBackward", N, C);
  rmsnorm_backward(a.f32(0, n), a.f32(1, n), a.f32(2, C), a.f32(3, N), a.f32(4, n), a.f32(5, C), N, C);
  return Undef(a);
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  Args a(info, "rope", 9);
  const int64_t B = a.size(4), T = a.size(5), H = a.size(6), D = a.size(7);
  const bool inverse = a.flag(8);
  if (D % 2 != 0) range_error(a, "rope: head size D must be even, received " + std::to_string(D));
  const int64_t n = mul(a, "rope", mul(a, "rope", B, T), mul(a, "rope", H, D));
  const int64_t tc = mul(a, "rope", T, D / 2);
  rope_forward(a.f32(0, n), a.f32(1, n), a.f32(2, tc), a.f32(3, tc), B, T, H, D, inverse);
  return Undef(a);
}

// ---- optimizers ----------------------------------------------------------------------------------------------

Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Args a(info, "adamw", 12);
  const int64_t n = a.size(4), step = a.size(10);
  if (step < 1) range_error(a, "adamw: step must be >= 1 (it is 1-based), received " + std::to_string(step));
  adamw_step(a.f32(0, n), a.f32(1, n), a.f32(2, n), a.f32(3, n), n, static_cast<float>(a.num(5)),
             static_cast<float>(a.num(6)), static_cast<float>(a.num(7)), static_cast<float>(a.num(8)),
             static_cast<float>(a.num(9)), step, static_cast<float>(a.num(11)));
  return Undef(a);
}

Napi::Value Sgd(const Napi::CallbackInfo& info) {
  Args a(info, "sgd", 10);
  const int64_t n = a.size(3);
  sgd_step(a.f32(0, n), a.f32(1, n), a.f32(2, n), n, static_cast<float>(a.num(4)), static_cast<float>(a.num(5)),
           static_cast<float>(a.num(6)), a.flag(7), a.flag(8), static_cast<float>(a.num(9)));
  return Undef(a);
}

}  // namespace

void RegisterOps(Napi::Env env, Napi::Object exports) {
  const struct {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  } table[] = {
      {"unary", Unary}, {"unaryBackward", UnaryBackward}, {"affine", Affine}, {"powScalar", PowScalar},
      {"binary", Binary}, {"copyStrided", CopyStrided}, {"where", Where}, {"maskedFill", MaskedFill},
      {"sumAxis", SumAxis}, {"maxAxis", MaxAxis}, {"sumSquares", SumSquares},
      {"softmax", Softmax}, {"softmaxBackward", SoftmaxBackward}, {"logSoftmax", LogSoftmax},
      {"logSoftmaxBackward", LogSoftmaxBackward}, {"crossEntropy", CrossEntropy},
      {"crossEntropyBackward", CrossEntropyBackward}, {"embedding", Embedding},
      {"embeddingBackward", EmbeddingBackward}, {"gatherLast", GatherLast}, {"gatherLastBackward", GatherLastBackward},
      {"layerNorm", LayerNorm}, {"layerNormBackward", LayerNormBackward}, {"rmsNorm", RmsNorm},
      {"rmsNormBackward", RmsNormBackward}, {"rope", Rope}, {"dropout", Dropout}, {"adamw", AdamW}, {"sgd", Sgd},
  };
  for (const auto& e : table) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace lf
