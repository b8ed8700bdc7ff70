#include "quant/fp16.h"

#include <gtest/gtest.h>
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "util/cpu_features.h"

namespace hearth::quant {
namespace {

TEST(Fp16, KnownValues) {
  EXPECT_EQ(f32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_fp16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_fp16(65504.0f), 0x7bff);       // largest finite half
  EXPECT_EQ(f32_to_fp16(65519.0f), 0x7bff);       // below the halfway point to 2^16
  EXPECT_EQ(f32_to_fp16(65520.0f), 0x7c00);       // the tie rounds to even: infinity
  EXPECT_EQ(f32_to_fp16(0x1p-24f), 0x0001);       // smallest subnormal
  EXPECT_EQ(f32_to_fp16(0x1p-25f), 0x0000);       // tie between 0 and 2^-24 goes to even 0
  EXPECT_EQ(f32_to_fp16(0x1.8p-24f), 0x0002);     // tie between 1 and 2 ulps goes to even 2
  EXPECT_EQ(f32_to_fp16(0x1p-14f), 0x0400);       // smallest normal
  EXPECT_EQ(f32_to_fp16(1.0f / 3.0f), 0x3555);
  EXPECT_EQ(f32_to_fp16(1.0f + 0x1p-11f), 0x3c00);  // tie to even (down)
  EXPECT_EQ(f32_to_fp16(1.0f + 0x3p-11f), 0x3c02);  // tie to even (up)
  EXPECT_EQ(f32_to_fp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_fp16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(fp16_to_f32(f32_to_fp16(std::nanf("")))));
  EXPECT_EQ(fp16_to_f32(0x3555), 0x1.554p-2f);
  EXPECT_EQ(fp16_to_f32(0x0001), 0x1p-24f);
  EXPECT_EQ(fp16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_EQ(h & 0x7c00u, 0x7c00u);
      continue;
    }
    ASSERT_EQ(f32_to_fp16(f), h) << std::hex << h;
  }
}

__attribute__((target("f16c"))) uint16_t hw_f32_to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
__attribute__((target("f16c"))) float hw_fp16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

// The SIMD tiers convert with F16C, so the plain code must agree with it bit for bit.
TEST(Fp16, MatchesF16cOnRandomFloats) {
  if (!cpu_features().f16c) GTEST_SKIP() << "no F16C";
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // Random bit patterns over the whole float range, and dense ones around the half range.
    uint32_t bits = rng();
    if (i % 2) bits = (bits & 0x807fffffu) | ((100u + rng() % 45u) << 23);
    const float f = std::bit_cast<float>(bits);
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_fp16(f), hw_f32_to_fp16(f)) << std::hexfloat << f;
  }
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float a = fp16_to_f32(static_cast<uint16_t>(h)), b = hw_fp16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(a)) {
      EXPECT_TRUE(std::isnan(b));
      continue;
    }
    ASSERT_EQ(std::bit_cast<uint32_t>(a), std::bit_cast<uint32_t>(b)) << h;
  }
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);  // above the tie
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x7f7fffffu)), 0x7f80);  // FLT_MAX rounds to inf
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_f32(static_cast<uint16_t>(h));
    if (!std::isnan(f)) {
      ASSERT_EQ(f32_to_bf16(f), h);
    }
  }
}

TEST(Fp16, RowConverters) {
  const float src[5] = {0.5f, -1.25f, 3.0f, 1e-8f, 70000.0f};
  uint16_t h[5];
  float back[5];
  f32_to_fp16_row(src, h, 5);
  fp16_to_f32_row(h, back, 5);
  EXPECT_EQ(back[0], 0.5f);
  EXPECT_EQ(back[1], -1.25f);
  EXPECT_EQ(back[2], 3.0f);
  EXPECT_EQ(back[3], 0x1p-24f * std::round(1e-8f / 0x1p-24f));
  EXPECT_TRUE(std::isinf(back[4]));
  f32_to_bf16_row(src, h, 5);
  bf16_to_f32_row(h, back, 5);
  EXPECT_EQ(back[1], -1.25f);
  EXPECT_NEAR(back[4], 70000.0f, 70000.0f / 128);
}

}  // namespace
}  // namespace hearth::quant
