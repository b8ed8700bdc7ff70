// Real tensors written by llama.cpp (shared testdata): our decoders read its bytes, our
// quantizers reproduce them where the format is deterministic, and every tier's dots agree with
// the ref on real scale patterns.

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "quant/type_traits.h"
#include "quant_test_util.h"

namespace hearth::quant {
namespace {

using G = GgmlType;

std::string testdata(const char* name) { return std::string(HEARTH_TESTDATA_DIR) + "/" + name; }

std::vector<float> dequantize_rows(const gguf::TensorInfo& t, int64_t rows) {
  const int64_t n = t.ne[0] * rows;
  std::vector<float> y(static_cast<size_t>(n));
  traits(t.type, CpuTier::ref).to_float(t.data, y.data(), n);
  return y;
}

// qwen2-tiny256-q4_k_m.gguf holds N(0, 0.2) weights through llama.cpp's Q4_K_M: Q4_K and Q6_K
// matrices. Decoded, they must look like N(0, 0.2): the mean of m samples has standard error
// 0.2 / sqrt(m) (<= 0.0008 here, bound 0.005), and quantization adds at most ~7% relative noise
// (Q4_K), which moves the standard deviation by under 0.5%: |std - 0.2| < 0.01.
TEST(QuantRealData, KQuantTensorsDecodeToTheirDistribution) {
  const auto file = gguf::File::open(testdata("qwen2-tiny256-q4_k_m.gguf"));
  int checked_q4 = 0, checked_q6 = 0;
  for (const auto& t : file.tensors()) {
    if (t.type != G::Q4_K && t.type != G::Q6_K) continue;
    const int64_t rows = std::min<int64_t>(t.n_rows(), 1024);
    const auto y = dequantize_rows(t, rows);
    double sum = 0, sum2 = 0;
    for (float v : y) {
      sum += v;
      sum2 += static_cast<double>(v) * v;
    }
    const double mean = sum / static_cast<double>(y.size());
    const double sd = std::sqrt(sum2 / static_cast<double>(y.size()) - mean * mean);
    EXPECT_LT(std::fabs(mean), 0.005) << t.name;
    EXPECT_NEAR(sd, 0.2, 0.01) << t.name;
    (t.type == G::Q4_K ? checked_q4 : checked_q6)++;
  }
  EXPECT_GT(checked_q4, 0);
  EXPECT_GT(checked_q6, 0);
}

// Our own K-quantizer on those decoded weights: the values already sit on a Q4_K grid, and the
// least-squares search finds it again (in practice exactly); a max/min quantizer would not, and
// would add about half a fresh quantization's error. Bound: a seventh of the fresh 0.07.
TEST(QuantRealData, RequantizingDecodedKQuantsLosesLittle) {
  const auto file = gguf::File::open(testdata("qwen2-tiny256-q4_k_m.gguf"));
  const gguf::TensorInfo* t = nullptr;
  for (const auto& ti : file.tensors()) {
    if (ti.type == G::Q4_K) {
      t = &ti;
      break;
    }
  }
  ASSERT_NE(t, nullptr);
  const auto y = dequantize_rows(*t, t->n_rows());
  const auto q = testing::quantize(G::Q4_K, y);
  const auto y2 = testing::dequantize(G::Q4_K, q, static_cast<int64_t>(y.size()));
  const double rel = testing::rmse(y, y2) / testing::rms(y);
  std::printf("%s: re-quantized Q4_K relative rmse %.5f\n", t->name.c_str(), rel);
  EXPECT_LT(rel, 0.01);
}

// Q8_0 / Q5_0 / Q4_0 quantizers are deterministic, and a decoded block re-encodes to the same
// bytes: its extreme element decodes to exactly -levels * d (Q4_0/Q5_0) or +-127 * d (Q8_0), so
// the recomputed scale is d again, and every other element lands exactly on its code.
TEST(QuantRealData, LegacyTensorsReencodeToTheSameBytes) {
  int checked = 0;
  for (const char* name : {"qwen2-tiny-q8_0.gguf", "qwen2-tiny-q4_k_m.gguf"}) {
    const auto file = gguf::File::open(testdata(name));
    for (const auto& t : file.tensors()) {
      if (t.type != G::Q8_0 && t.type != G::Q5_0 && t.type != G::Q4_0) continue;
      const int64_t rows = std::min<int64_t>(t.n_rows(), 512);
      const auto y = dequantize_rows(t, rows);
      const std::vector<uint8_t> original(t.data, t.data + gguf::row_bytes(t.type, t.ne[0]) * rows);
      for (CpuTier tier : testing::available_tiers()) {
        ASSERT_EQ(testing::quantize(t.type, y, tier), original) << name << " " << t.name << " " << cpu_tier_name(tier);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 5);
}

// Every tier's dots on real weights against real-looking activations.
TEST(QuantRealData, TiersAgreeOnRealWeights) {
  const auto file = gguf::File::open(testdata("qwen2-tiny256-q4_k_m.gguf"));
  for (const auto& t : file.tensors()) {
    if (t.type != G::Q4_K && t.type != G::Q6_K) continue;
    const int64_t n = t.ne[0];
    const TypeTraits& ref = traits(t.type, CpuTier::ref);
    const auto x = testing::random_normal(n, 1.0f, 99);
    const auto xq = testing::quantize(ref.vec_dot_type, x);
    const int64_t rb = gguf::row_bytes(t.type, n);
    for (int64_t r = 0; r < std::min<int64_t>(t.n_rows(), 64); ++r) {
      const float want = ref.vec_dot(n, t.data + r * rb, xq.data());
      for (CpuTier tier : testing::available_tiers()) {
        const float got = traits(t.type, tier).vec_dot(n, t.data + r * rb, xq.data());
        ASSERT_NEAR(got, want, 1e-5 * (std::fabs(want) + 1)) << t.name << " row " << r << " " << cpu_tier_name(tier);
      }
    }
  }
}

}  // namespace
}  // namespace hearth::quant
