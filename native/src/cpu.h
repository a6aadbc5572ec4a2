// Runtime CPU feature detection for kernel dispatch. One binary runs on any x86-64: each kernel picks its
// AVX-512, AVX2 or scalar variant from these answers (LLMFORGE_ISA=avx512|avx2|scalar caps the choice, for
// testing every path on one machine).
#pragma once
#include <cstdlib>
#include <cstring>

namespace lf {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

inline Isa isa_cap() {
  const char* env = std::getenv("LLMFORGE_ISA");
  if (env == nullptr) return Isa::kAvx512;
  if (std::strcmp(env, "scalar") == 0) return Isa::kScalar;
  if (std::strcmp(env, "avx2") == 0) return Isa::kAvx2;
  return Isa::kAvx512;
}

inline bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return v;
#else
  return false;
#endif
}

inline bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return v;
#else
  return false;
#endif
}

inline bool cpu_has_avx512bf16() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool v = cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
  return v;
#else
  return false;
#endif
}

// The best ISA both supported by the CPU and allowed by LLMFORGE_ISA.
inline Isa best_isa() {
  static const Isa v = [] {
    Isa cap = isa_cap();
    if (cap >= Isa::kAvx512 && cpu_has_avx512()) return Isa::kAvx512;
    if (cap >= Isa::kAvx2 && cpu_has_avx2()) return Isa::kAvx2;
    return Isa::kScalar;
  }();
  return v;
}

inline const char* cpu_isa_name() {
  switch (best_isa()) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace lf
