// The scalar reference kernels: round-trip error per format, dot products, edge cases, and exact
// bytes where the format's quantizer is deterministic by construction.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/k_scales.h"
#include "quant/type_traits.h"
#include "quant_test_util.h"

namespace hearth::quant {
namespace {

using testing::abs_dot_double;
using testing::dequantize;
using testing::dot_double;
using testing::quantize;
using testing::random_normal;
using testing::rms;
using testing::rmse;
using G = GgmlType;

// Round-trip RMSE bounds on N(0, 1) data, relative to the data's RMS. Derivation: rounding to a
// uniform grid of step s leaves an error uniform in [-s/2, s/2], RMS s / sqrt(12) = 0.289 s.
// - 32-blocks, scale from the extreme value: the RMS over blocks of a 32-sample |max| is ~2.2,
//   so s = 2.2 / (levels / 2): Q8_0 (127) 0.0050, Q5_0 (16) 0.040, Q4_0 (8) 0.080; the affine
//   Q4_1 / Q5_1 spread the range (~4.1) over 15 / 31 steps: 0.079 / 0.038. Q8_K: 256-blocks,
//   |max| ~2.9: 0.0066. Bounds: those plus ~15% (fp16 scale rounding, clipping of the extreme
//   side in the symmetric formats).
// - K-quants: the figure llama.cpp's own reference quantizer reaches on N(0, 1) data (measured on
//   2^20 samples: q2_K 0.296, q3_K 0.1505, q4_K 0.0712, q5_K 0.0360, q6_K 0.0177). Ours must not
//   be worse (it fits sub-block scales by least squares and re-picks the quantized sub-scale
//   codes; on that data it is 2-12% better). 2^16 samples here: sampling noise ~0.3%.
// - MXFP4: a power-of-two scale and the uneven E2M1 levels (steps of 1/8 of the block's binade
//   near 0, 1/2 near the top) have no closed form worth writing: its rule run on 2^18 N(0, 1)
//   samples in a double-precision model gives 0.1153; bound that plus 15%.
// - F16 / BF16 round to 11 / 8 significant bits: relative RMS 2^-11 / sqrt(3) = 0.00028 and
//   2^-8 / sqrt(3) = 0.0023 at worst (uniform relative error), less in practice.
struct FormatCase {
  G type;
  double rmse_bound;  // relative to RMS of the data
};

const FormatCase kFormats[] = {
    {G::F32, 0.0},     {G::F16, 0.00028}, {G::BF16, 0.0023},  {G::Q8_0, 0.0058},
    {G::Q8_1, 0.0058}, {G::Q5_0, 0.046},  {G::Q5_1, 0.044},   {G::Q4_0, 0.092},
    {G::Q4_1, 0.091},  {G::Q8_K, 0.0076}, {G::Q6_K, 0.0177},  {G::Q5_K, 0.0360},
    {G::Q4_K, 0.0712}, {G::Q3_K, 0.1505}, {G::Q2_K, 0.296},   {G::MXFP4, 0.133},
};

std::string case_name(const ::testing::TestParamInfo<FormatCase>& info) {
  return gguf::type_name(info.param.type);
}

class FormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatTest, RoundTripErrorWithinFormatBound) {
  const FormatCase& c = GetParam();
  const int64_t n = 256 * 256;
  const auto x = random_normal(n, 1.0f, 1);
  const auto q = quantize(c.type, x);
  const auto y = dequantize(c.type, q, n);
  const double err = rmse(x, y) / rms(x);
  EXPECT_LE(err, c.rmse_bound) << gguf::type_name(c.type);
  // The error is not suspiciously small either (a format that dropped no bits would be a bug
  // in the test data path, not a miracle): at least a third of the bound.
  if (c.rmse_bound > 0) {
    EXPECT_GE(err, c.rmse_bound / 3);
  }
  std::printf("%-6s relative rmse %.5f (bound %.5f)\n", gguf::type_name(c.type), err, c.rmse_bound);
}

TEST_P(FormatTest, ScaleInvariance) {
  // Quantization error scales with the data: same relative bound at sigma 1e-3 and 30.
  const FormatCase& c = GetParam();
  for (float sigma : {1e-3f, 30.0f}) {
    const int64_t n = 256 * 8;
    const auto x = random_normal(n, sigma, 2);
    const auto y = dequantize(c.type, quantize(c.type, x), n);
    EXPECT_LE(rmse(x, y) / rms(x), c.rmse_bound * 1.25 + 1e-6) << sigma;
  }
}

TEST_P(FormatTest, AllZerosStayZero) {
  const FormatCase& c = GetParam();
  const std::vector<float> x(512, 0.0f);
  const auto y = dequantize(c.type, quantize(c.type, x), 512);
  for (float v : y) ASSERT_EQ(v, 0.0f);
}

TEST_P(FormatTest, OneHugeValue) {
  // One outlier 1e4 times the rest: it must come back within the format's step (its block's
  // scale is set by it), and nothing may turn into NaN or infinity.
  const FormatCase& c = GetParam();
  auto x = random_normal(512, 1.0f, 3);
  x[37] = 1e4f;
  x[300] = -2e4f;
  const auto y = dequantize(c.type, quantize(c.type, x), 512);
  for (float v : y) ASSERT_TRUE(std::isfinite(v));
  // Relative step near the top of the grid: 1 / levels-per-side, times 1.5 for sub-scale codes.
  // MXFP4's top codes are 4 and 6 (x the block's power of two): a value between them is up to a
  // fifth of its size from the nearer one.
  const double rel = c.type == G::Q2_K ? 0.5 : c.type == G::Q3_K ? 0.3 : c.type == G::MXFP4 ? 0.25 : 0.15;
  EXPECT_NEAR(y[37], 1e4f, 1e4f * rel);
  EXPECT_NEAR(y[300], -2e4f, 2e4f * rel);
}

TEST_P(FormatTest, NegativeOnlyBlocks) {
  // Offsets and sign handling: all-negative data (the min formats must use their offset; the
  // symmetric ones the extra negative level) keeps the same error bound.
  const FormatCase& c = GetParam();
  auto x = random_normal(1024, 1.0f, 4);
  for (auto& v : x) v = -std::fabs(v) - 0.5f;
  const auto y = dequantize(c.type, quantize(c.type, x), 1024);
  // Relative to RMS of the data the error is no worse than for centred data, whose range is
  // about twice as wide.
  EXPECT_LE(rmse(x, y) / rms(x), c.rmse_bound + 1e-6);
  for (float v : y) ASSERT_LE(v, 1e-6f);
}

TEST_P(FormatTest, QuantizeIsDeterministic) {
  const FormatCase& c = GetParam();
  const auto x = random_normal(768, 1.0f, 5);
  EXPECT_EQ(quantize(c.type, x), quantize(c.type, x));
}

INSTANTIATE_TEST_SUITE_P(Ref, FormatTest, ::testing::ValuesIn(kFormats), case_name);

// Dots. Tight: vs a double dot of the dequantized operands; the ref's per-block integer sums are
// exact, so what is left is float summation over blocks (relative 2^-24 per add, n/32 adds) and,
// for Q8_1 activations, the fp16 rounding of the stored block sum s (2^-11 relative, times the
// weight block's min). Loose: vs a double dot of the original floats; the difference is
// sum(ew * x + w * ex): independent errors of RMS e_w, e_x per element, so its standard deviation is
// sqrt(n) * (e_w * rms(x) + rms(w) * e_x); six of those never fail by chance.
struct DotCase {
  G type;
  double w_rel_rmse;  // the weight format's relative round-trip RMSE bound (as above)
};

const DotCase kDots[] = {
    {G::F32, 0.0},    {G::F16, 0.00028}, {G::BF16, 0.0023}, {G::Q8_0, 0.0058}, {G::Q5_0, 0.046},
    {G::Q5_1, 0.044}, {G::Q4_0, 0.092},  {G::Q4_1, 0.091},  {G::Q6_K, 0.0177}, {G::Q5_K, 0.036},
    {G::Q4_K, 0.0712}, {G::Q3_K, 0.1505}, {G::Q2_K, 0.296}, {G::MXFP4, 0.133},
};

double act_rel_rmse(G t) {
  switch (t) {
    case G::F32: return 0.0;
    case G::Q8_K: return 0.0076;
    default: return 0.0058;
  }
}

std::string dot_name(const ::testing::TestParamInfo<DotCase>& info) {
  return gguf::type_name(info.param.type);
}

class DotTest : public ::testing::TestWithParam<DotCase> {};

TEST_P(DotTest, MatchesDequantizedAndOriginal) {
  const DotCase& c = GetParam();
  const TypeTraits& wt = traits(c.type, CpuTier::ref);
  const G at = wt.vec_dot_type;
  for (int64_t n : {256, 256 * 3, 4096}) {
    const auto w = random_normal(n, 1.0f, static_cast<uint32_t>(n));
    const auto x = random_normal(n, 1.0f, static_cast<uint32_t>(n + 1));
    const auto wq = quantize(c.type, w);
    const auto xq = quantize(at, x);
    const auto wd = dequantize(c.type, wq, n);
    const auto xd = dequantize(at, xq, n);
    const double got = wt.vec_dot(n, wq.data(), xq.data());

    double tight = 1e-6 * abs_dot_double(wd, xd) + 1e-6;
    if (at == G::Q8_1) {
      // fp16 rounding of each block's s = d * sum(q): |m| * |s| * 2^-11 per block.
      const auto* wb = reinterpret_cast<const uint8_t*>(wq.data());
      const auto* ab = reinterpret_cast<const BlockQ8_1*>(xq.data());
      for (int64_t b = 0; b < n / 32; ++b) {
        uint16_t m;
        std::memcpy(&m, wb + b * wt.block_bytes + 2, 2);
        tight += std::fabs(fp16_to_f32(m) * fp16_to_f32(ab[b].s)) * 0x1p-11;
      }
    }
    EXPECT_NEAR(got, dot_double(wd, xd), tight) << n;

    const double sigma = std::sqrt(static_cast<double>(n)) *
                         (c.w_rel_rmse * rms(w) * rms(x) + rms(w) * act_rel_rmse(at) * rms(x));
    EXPECT_NEAR(got, dot_double(w, x), 6 * sigma + 1e-4 * abs_dot_double(w, x)) << n;
  }
}

TEST_P(DotTest, ZeroWeightsGiveZero) {
  const DotCase& c = GetParam();
  const TypeTraits& wt = traits(c.type, CpuTier::ref);
  const std::vector<float> w(512, 0.0f);
  const auto x = random_normal(512, 1.0f, 9);
  const auto wq = quantize(c.type, w);
  const auto xq = quantize(wt.vec_dot_type, x);
  EXPECT_EQ(wt.vec_dot(512, wq.data(), xq.data()), 0.0f);
}

TEST_P(DotTest, TileMatchesSingleDots) {
  const DotCase& c = GetParam();
  const TypeTraits& wt = traits(c.type, CpuTier::ref);
  const int64_t n = 512;
  const int64_t wbytes = gguf::row_bytes(c.type, n), abytes = gguf::row_bytes(wt.vec_dot_type, n);
  const auto w = random_normal(n * kTileRows, 1.0f, 10);
  const auto x = random_normal(n * kTileCols, 1.0f, 11);
  const auto wq = quantize(c.type, w);
  const auto xq = quantize(wt.vec_dot_type, x);
  for (int nr = 1; nr <= kTileRows; ++nr) {
    for (int nc = 1; nc <= kTileCols; ++nc) {
      float out[kTileCols * 8];
      wt.vec_dot_tile(n, wq.data(), wbytes, nr, xq.data(), abytes, nc, out, 8);
      for (int cc = 0; cc < nc; ++cc) {
        for (int r = 0; r < nr; ++r) {
          EXPECT_EQ(out[cc * 8 + r], wt.vec_dot(n, wq.data() + r * wbytes, xq.data() + cc * abytes));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ref, DotTest, ::testing::ValuesIn(kDots), dot_name);

// Exact bytes: Q8_0 of a vector whose largest magnitude is 127 has d = 1 exactly, so every
// element's code is the element rounded half away from zero (2.5 -> 3, -2.5 -> -3).
TEST(QuantBytes, Q8_0KnownVector) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j * 4) - 60.0f;  // -60 .. 64
  x[0] = -127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.49f;
  const auto q = quantize(G::Q8_0, x);
  ASSERT_EQ(q.size(), 34u);
  EXPECT_EQ(q[0], 0x00);  // d = 1.0 = 0x3c00, little-endian
  EXPECT_EQ(q[1], 0x3c);
  const auto* qs = reinterpret_cast<const int8_t*>(q.data() + 2);
  EXPECT_EQ(qs[0], -127);
  EXPECT_EQ(qs[1], 3);
  EXPECT_EQ(qs[2], -3);
  EXPECT_EQ(qs[3], 0);
  for (int j = 4; j < 32; ++j) EXPECT_EQ(qs[j], j * 4 - 60) << j;
}

// Q4_0: the element of largest magnitude, -16, sets d = -16 / -8 = 2; codes are
// floor(x / 2 + 8.5) clipped to 15, element j in the low nibble of byte j, j + 16 in the high one.
TEST(QuantBytes, Q4_0KnownVector) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) - 16.0f;  // -16 .. 15
  const auto q = quantize(G::Q4_0, x);
  ASSERT_EQ(q.size(), 18u);
  EXPECT_EQ(q[0] | (q[1] << 8), 0x4000);  // 2.0
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, (j - 16 + 17) / 2);  // floor((j-16)/2 + 8.5)
    const int hi = std::min(15, (j + 17) / 2);
    EXPECT_EQ(q[2 + j], lo | (hi << 4)) << j;
  }
  // And the known values come back: even elements exactly (on the grid), the top clipped to 14.
  const auto y = dequantize(G::Q4_0, q, 32);
  EXPECT_EQ(y[0], -16.0f);
  EXPECT_EQ(y[2], -14.0f);
  EXPECT_EQ(y[31], 14.0f);
}

// MXFP4: max |x| = 15 gives the exponent floor(log2 15) - 2 = 1, so x = fp4 * 2^1 = the doubled
// levels {0, 1, 2, 3, 4, 6, 8, 12} themselves. Elements on the grid come back
// exactly; 5, 7 and 10 sit halfway between two levels and take the first (lower) one; 13..15
// clip to 12. The E8M0 byte is 127 + 1.
TEST(QuantBytes, Mxfp4KnownVector) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16) * (j < 16 ? 1.0f : -1.0f);
  const auto q = quantize(G::MXFP4, x);
  ASSERT_EQ(q.size(), 17u);
  EXPECT_EQ(q[0], 128);
  const int code_of[16] = {0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 7, 7, 7};  // nearest level's code
  const float level[8] = {0, 1, 2, 3, 4, 6, 8, 12};
  for (int j = 0; j < 16; ++j) {
    const int neg = j == 0 ? 0 : 8;  // -0 is code 8, but +0 (code 0) is found first
    EXPECT_EQ(q[1 + j], code_of[j] | ((code_of[j] | neg) << 4)) << j;
  }
  const auto y = dequantize(G::MXFP4, q, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], level[code_of[j]]) << j;
    EXPECT_EQ(y[j + 16], -level[code_of[j]]) << j;
  }
}

// The E8M0 scale's extremes: the smallest exponent codes are subnormal floats, all exact.
TEST(QuantBytes, Mxfp4ScaleExtremes) {
  uint8_t block[17] = {};
  block[1] = 0x07;  // element 0: code 7 (doubled value 12), element 16: code 0
  float y[32];
  for (int e : {0, 1, 2, 127, 254}) {
    block[0] = static_cast<uint8_t>(e);
    traits(G::MXFP4, CpuTier::ref).to_float(block, y, 32);
    EXPECT_EQ(y[0], std::ldexp(6.0f, e - 127)) << e;  // 6 = 12 / 2
    EXPECT_EQ(y[16], 0.0f);
  }
}

// Q8_K keeps float d and bsums = sums of 16 codes.
TEST(QuantBytes, Q8_KBsums) {
  const auto x = random_normal(512, 1.0f, 12);
  const auto q = quantize(G::Q8_K, x);
  const auto* b = reinterpret_cast<const BlockQ8_K*>(q.data());
  for (int i = 0; i < 2; ++i) {
    int max = 0;
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) {
        s += b[i].qs[16 * j + l];
        max = std::max(max, std::abs(static_cast<int>(b[i].qs[16 * j + l])));
      }
      EXPECT_EQ(b[i].bsums[j], s);
    }
    EXPECT_EQ(max, 127);
  }
}

// K-quant layouts: a Q4_K block hand-built with known codes and scales dequantizes to the values
// the format defines (the scale packing of sub-blocks 4-7 is the tricky part).
TEST(QuantBytes, Q4_KHandBuiltBlock) {
  BlockQ4_K b{};
  b.d = f32_to_fp16(0.5f);
  b.dmin = f32_to_fp16(0.25f);
  // Sub-block j: scale code 10 + j (j < 4) or 40 + j (needs the top bits), min code 3 + 7j.
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(j < 4 ? 10 + j : 40 + j);
    m[j] = static_cast<uint8_t>(3 + 7 * j);
  }
  for (int j = 0; j < 4; ++j) {
    b.scales[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    b.scales[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    b.scales[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
  for (int l = 0; l < 128; ++l) b.qs[l] = static_cast<uint8_t>((l % 16) | (((l + 5) % 16) << 4));
  float y[256];
  traits(G::Q4_K, CpuTier::ref).to_float(&b, y, 256);
  for (int e = 0; e < 256; ++e) {
    const int p = e / 64, k = (e % 64) / 32, l = e % 32, j = e / 32;
    const int code = k == 0 ? (32 * p + l) % 16 : (32 * p + l + 5) % 16;
    const float want = 0.5f * sc[j] * code - 0.25f * m[j];
    ASSERT_EQ(y[e], want) << e;
  }
}

TEST(Traits, TableShape) {
  for (G t : {G::F32, G::F16, G::BF16, G::Q4_0, G::Q4_1, G::Q5_0, G::Q5_1, G::Q8_0, G::Q8_1, G::Q2_K,
              G::Q3_K, G::Q4_K, G::Q5_K, G::Q6_K, G::Q8_K, G::MXFP4}) {
    ASSERT_TRUE(is_supported(t));
    for (CpuTier tier : testing::available_tiers()) {
      const TypeTraits& tt = traits(t, tier);
      EXPECT_EQ(tt.type, t);
      EXPECT_EQ(tt.block_bytes, gguf::type_geometry(t)->block_bytes);
      EXPECT_NE(tt.to_float, nullptr);
      EXPECT_NE(tt.from_float, nullptr);
      const bool activation_only = t == G::Q8_1 || t == G::Q8_K;
      EXPECT_EQ(tt.vec_dot == nullptr, activation_only);
      EXPECT_EQ(tt.vec_dot_tile == nullptr, activation_only);
    }
  }
  EXPECT_FALSE(is_supported(G::I8));
  EXPECT_FALSE(is_supported(G::F64));
  EXPECT_FALSE(is_supported(static_cast<G>(99)));
}

}  // namespace
}  // namespace hearth::quant

namespace hearth::quant {
namespace {

// The SIMD kernels unpack K-quant scales as whole words; the per-index functions are the spec.
TEST(KScales, WordUnpackMatchesSpec) {
  std::mt19937 rng(21);
  for (int iter = 0; iter < 5000; ++iter) {
    uint8_t s[12];
    for (auto& b : s) b = static_cast<uint8_t>(rng());
    uint8_t sc[8], m[8];
    unpack_scale_min_k4_all(s, sc, m);
    for (int j = 0; j < 8; ++j) {
      uint8_t a, b;
      unpack_scale_min_k4(s, j, &a, &b);
      ASSERT_EQ(sc[j], a);
      ASSERT_EQ(m[j], b);
    }
    int8_t spec[16];
    uint8_t biased[16];
    unpack_scales_q3_k(s, spec);
    unpack_scales_q3_k_biased_all(s, biased);
    for (int j = 0; j < 16; ++j) ASSERT_EQ(biased[j] - 32, spec[j]);
    // And packing is the inverse of unpacking.
    uint8_t packed[12];
    pack_scale_min_k4(sc, m, packed);
    EXPECT_EQ(std::memcmp(packed, s, 12), 0);
    pack_scales_q3_k(biased, packed);
    EXPECT_EQ(std::memcmp(packed, s, 12), 0);
  }
}

}  // namespace
}  // namespace hearth::quant
