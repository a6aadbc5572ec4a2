// Counter-based 32-bit hash shared with src/backend/hash.ts (keep the two identical): dropout masks are
// hash32(seed, index) >= threshold, so both backends drop the same elements.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace lf {

inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

inline uint32_t hash32(uint32_t seed, uint32_t index) {
  uint32_t h = fmix32(index + seed * 0x9e3779b9u);
  return fmix32(h ^ seed);
}

inline uint32_t dropout_threshold(double p) {
  return static_cast<uint32_t>(std::min(std::floor(p * 4294967296.0), 4294967295.0));
}

}  // namespace lf
