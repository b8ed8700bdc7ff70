#pragma once
// The ops tests' random inputs: n floats uniform in [-scale, scale) from an xorshift stream
// (the same values on every machine and library, unlike std:: distributions).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hearth::ops {

inline std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = scale * (static_cast<float>(s >> 40) / static_cast<float>(1 << 24) * 2.0f - 1.0f);
  }
  return v;
}

}  // namespace hearth::ops
