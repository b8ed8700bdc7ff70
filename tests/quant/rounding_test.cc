// round_clamp is written out by hand (no libm call); it must give exactly what roundf followed by
// a clamp gives, for every float a weight file can hold. The whole 2^32 space was checked once by
// hand for the quantizers' ranges (bench/RESULTS.md, quantizer speed); here: the edges, 4M random bit
// patterns and 1M values near the range, per range.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "quant/ref/rounding.h"

namespace hearth::quant {
namespace {

int reference(float v, int lo, int hi) {
  if (std::isnan(v)) v = 0.0f;
  const float r = std::round(v);
  if (r <= static_cast<float>(lo)) return lo;
  if (r >= static_cast<float>(hi)) return hi;
  return static_cast<int>(r);
}

float from_bits(uint32_t u) {
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

TEST(RoundClamp, MatchesRoundfThenClamp) {
  const int ranges[][2] = {{0, 3}, {0, 15}, {0, 63}, {-4, 3}, {-32, 31}, {-128, 127}};
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> edges = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f,
                              -0.49999997f, 14.5f, 15.5f, 16.5f, -32.5f, 31.5f, 127.5f, -128.5f,
                              1e-45f, -1e-45f, 1e30f, -1e30f, inf, -inf,
                              std::numeric_limits<float>::quiet_NaN(), 8388608.0f, 8388609.0f};
  for (int k = -300; k <= 300; ++k) {
    edges.push_back(static_cast<float>(k) * 0.5f);
    edges.push_back(std::nextafter(static_cast<float>(k) * 0.5f, inf));
    edges.push_back(std::nextafter(static_cast<float>(k) * 0.5f, -inf));
  }
  std::mt19937 rng(7);
  for (const auto& r : ranges) {
    for (float v : edges) EXPECT_EQ(round_clamp(v, r[0], r[1]), reference(v, r[0], r[1])) << v;
    for (int i = 0; i < (1 << 22); ++i) {
      const float v = from_bits(static_cast<uint32_t>(rng()));
      ASSERT_EQ(round_clamp(v, r[0], r[1]), reference(v, r[0], r[1])) << v << " in " << r[0] << ".." << r[1];
    }
    // Most random bit patterns are huge or tiny; the values quantizers round lie near the range.
    std::uniform_real_distribution<float> near(static_cast<float>(r[0]) - 2.0f, static_cast<float>(r[1]) + 2.0f);
    for (int i = 0; i < (1 << 20); ++i) {
      const float v = near(rng);
      ASSERT_EQ(round_clamp(v, r[0], r[1]), reference(v, r[0], r[1])) << v << " in " << r[0] << ".." << r[1];
    }
  }
}

}  // namespace
}  // namespace hearth::quant
