// The element-wise kernels (activation_kernels.h: e^x, SwiGLU, add, RMSNorm, RoPE) on every CPU
// tier this machine has, against their references, over odd lengths and misaligned pointers;
// the batch entry points give the same results for 1, 2 and 3 threads.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/activation_kernels.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "util/cpu_features.h"
#include "util/thread_pool.h"
#include "random_vec.h"

namespace hearth::ops {
namespace {

std::vector<CpuTier> tiers() {
  std::vector<CpuTier> t;
  for (int i = 0; i <= static_cast<int>(cpu_max_tier()); ++i) t.push_back(static_cast<CpuTier>(i));
  return t;
}

struct TierGuard {
  CpuTier saved = cpu_tier();
  ~TierGuard() {
    set_cpu_tier(saved);
    global_thread_pool(1);
  }
};

TEST(Elementwise, KernelTablePerTier) {
  EXPECT_STREQ(activation_kernels(CpuTier::ref).isa, "ref");
  if (cpu_max_tier() >= CpuTier::avx2) {
    EXPECT_STREQ(activation_kernels(CpuTier::avx2).isa, "avx2");
  }
  if (cpu_max_tier() >= CpuTier::avx512) {
    EXPECT_STREQ(activation_kernels(CpuTier::avx512).isa, "avx512");
  }
}

// The vector tiers' e^x: the documented bound (activation_simd.h) over a dense sweep of the whole
// normal range, and the edge cases.
TEST(Elementwise, ExpApproximationErrorBound) {
  constexpr double kMaxRelError = 1.5e-7;
  const int64_t n = 2'000'001;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(-87.0 + 175.0 * static_cast<double>(i) / (n - 1));
  for (CpuTier tier : tiers()) {
    const ActivationKernels& k = activation_kernels(tier);
    k.exp_row(x.data(), n, y.data());
    double worst = 0;
    float worst_x = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(static_cast<double>(x[i]));
      const double err = std::fabs(y[i] - want) / want;
      if (err > worst) worst = err, worst_x = x[i];
    }
    EXPECT_LT(worst, kMaxRelError) << cpu_tier_name(tier) << " at x = " << worst_x;
    std::ostringstream measured;
    measured << worst;
    RecordProperty(std::string("max_rel_error_") + cpu_tier_name(tier), measured.str());
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> edge = {0.0f, -inf, -100.0f, -87.5f, 1.0f, -1.0f, std::nanf(""), 1e-8f, -1e-8f};
    std::vector<float> out(edge.size());
    k.exp_row(edge.data(), static_cast<int64_t>(edge.size()), out.data());
    EXPECT_EQ(out[0], 1.0f) << cpu_tier_name(tier);
    EXPECT_EQ(out[1], 0.0f) << cpu_tier_name(tier);
    EXPECT_LT(out[2], 1.2e-38f) << cpu_tier_name(tier);  // 0 in the vector tiers, libm's subnormal in ref
    EXPECT_LT(out[3], 1.2e-38f) << cpu_tier_name(tier);
    EXPECT_NEAR(out[4], std::exp(1.0), 3e-7 * std::exp(1.0)) << cpu_tier_name(tier);
    EXPECT_NEAR(out[5], std::exp(-1.0), 3e-7 * std::exp(-1.0)) << cpu_tier_name(tier);
    EXPECT_TRUE(std::isnan(out[6])) << cpu_tier_name(tier);
    EXPECT_NEAR(out[7], 1.0f, 1.2e-7f) << cpu_tier_name(tier);
    EXPECT_NEAR(out[8], 1.0f, 1.2e-7f) << cpu_tier_name(tier);
  }
}

// Relative to the magnitude of silu(g) * up, plus a floor for results near zero.
TEST(Elementwise, SwigluMatchesReferenceOnEveryTier) {
  TierGuard guard;
  for (int64_t n : {1, 7, 8, 17, 1000, 8963, 70001}) {
    const auto g = random_vec(n + 1, n, 12.0f), u = random_vec(n + 1, n + 1, 2.0f);
    std::vector<float> ref(n);
    swiglu_ref(g.data() + 1, u.data() + 1, n, ref.data());
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        global_thread_pool(threads);
        std::vector<float> out(n + 1);
        swiglu(g.data() + 1, u.data() + 1, n, out.data() + 1);  // misaligned
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_NEAR(out[i + 1], ref[i], 6e-7 * std::fabs(ref[i]) + 1e-30)
              << cpu_tier_name(tier) << " n " << n << " i " << i << " g " << g[i + 1];
        }
        if (first.empty()) first = out;
        EXPECT_EQ(first, out) << cpu_tier_name(tier) << " threads " << threads;
      }
      // In place over the gate, as the model calls it.
      std::vector<float> gate(g.begin() + 1, g.end());
      swiglu(gate.data(), u.data() + 1, n, gate.data());
      EXPECT_EQ(0, std::memcmp(gate.data(), first.data() + 1, n * sizeof(float))) << cpu_tier_name(tier);
    }
  }
}

// gpt-oss's SwiGLU: the gate spread over [-12, 12) and up over [-10, 10), so both clamps at 7 act
// (and the gate's lower side is not clamped). SwiGLU's error budget (the same e^x), plus the
// float rounding of the exponent -alpha * g (half an ulp of a value up to 20: a relative error
// of |alpha g| * 2^-24 in e^x, which the sigmoid passes on where e^x dominates its denominator).
TEST(Elementwise, SwigluOaiMatchesReferenceOnEveryTier) {
  TierGuard guard;
  for (int64_t n : {1, 7, 8, 17, 1000, 70001}) {
    const auto g = random_vec(n + 1, 3 * n, 12.0f), u = random_vec(n + 1, 3 * n + 1, 10.0f);
    std::vector<float> ref(n);
    swiglu_oai_ref(g.data() + 1, u.data() + 1, n, 1.702f, 7.0f, ref.data());
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      std::vector<float> first;
      for (int threads : {1, 2, 3}) {
        global_thread_pool(threads);
        std::vector<float> out(n + 1);
        swiglu_oai(g.data() + 1, u.data() + 1, n, 1.702f, 7.0f, out.data() + 1);
        for (int64_t i = 0; i < n; ++i) {
          const double arg = 1.702 * std::fabs(std::min(g[i + 1], 7.0f));
          ASSERT_NEAR(out[i + 1], ref[i], (6e-7 + arg * 0x1p-24) * std::fabs(ref[i]) + 1e-30)
              << cpu_tier_name(tier) << " n " << n << " i " << i << " g " << g[i + 1] << " u " << u[i + 1];
        }
        if (first.empty()) first = out;
        EXPECT_EQ(first, out) << cpu_tier_name(tier) << " threads " << threads;
      }
    }
  }
  // By hand: gate 9 -> 7, up -8 -> -7: 7 * sigmoid(1.702 * 7) * (-6); gate -9 stays -9, up 0.5.
  const float g[2] = {9.0f, -9.0f}, u[2] = {-8.0f, 0.5f};
  float out[2];
  swiglu_oai_ref(g, u, 2, 1.702f, 7.0f, out);
  EXPECT_NEAR(out[0], 7.0 / (1.0 + std::exp(-1.702 * 7.0)) * -6.0, 1e-5);
  EXPECT_NEAR(out[1], -9.0 / (1.0 + std::exp(1.702 * 9.0)) * 1.5, 1e-9);
}

TEST(Elementwise, AddAndAddBiasAreExact) {
  TierGuard guard;
  for (int64_t n : {1, 7, 33, 1536, 40000}) {
    const auto y0 = random_vec(n + 1, n), x = random_vec(n + 1, n + 5);
    std::vector<float> want(n);
    for (int64_t i = 0; i < n; ++i) want[i] = y0[i + 1] + x[i + 1];
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      for (int threads : {1, 3}) {
        global_thread_pool(threads);
        std::vector<float> y = y0;
        add_inplace(y.data() + 1, x.data() + 1, n);
        EXPECT_EQ(0, std::memcmp(y.data() + 1, want.data(), n * sizeof(float))) << cpu_tier_name(tier) << " " << n;
      }
    }
  }
  for (int64_t rows : {1, 3, 64}) {
    const int64_t n = 1027;
    const auto x0 = random_vec(rows * n + 1, rows), b = random_vec(n + 1, 99);
    for (CpuTier tier : tiers()) {
      set_cpu_tier(tier);
      for (int threads : {1, 2}) {
        global_thread_pool(threads);
        std::vector<float> x = x0;
        add_bias_rows(x.data() + 1, b.data() + 1, rows, n);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[1 + r * n + i], x0[1 + r * n + i] + b[1 + i]);
        }
      }
    }
  }
}

TEST(Elementwise, RmsNormMatchesReferenceOnEveryTier) {
  TierGuard guard;
  for (int64_t n : {1, 7, 64, 257, 1536}) {
    for (int64_t rows : {1, 5, 40}) {
      const auto x = random_vec(rows * n + 1, n * rows, 3.0f), w = random_vec(n + 1, n + 1);
      std::vector<float> ref(rows * n);
      rmsnorm_ref(x.data() + 1, w.data() + 1, rows, n, 1e-5f, ref.data());
      for (CpuTier tier : tiers()) {
        set_cpu_tier(tier);
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
          global_thread_pool(threads);
          std::vector<float> out(rows * n + 1);
          rmsnorm(x.data() + 1, w.data() + 1, rows, n, 1e-5f, out.data() + 1);
          for (int64_t i = 0; i < rows * n; ++i) {
            // Two float roundings of x * scale * w after a double sum of squares.
            ASSERT_NEAR(out[i + 1], ref[i], 2.5e-7 * std::fabs(ref[i]) + 1e-30) << cpu_tier_name(tier) << " n " << n;
          }
          if (first.empty()) first = out;
          EXPECT_EQ(first, out);
        }
        // In place, no weights: mean square 1.
        std::vector<float> y(x.begin() + 1, x.begin() + 1 + n);
        rmsnorm(y.data(), nullptr, 1, n, 0.0f, y.data());
        double ms = 0;
        for (float v : y) ms += static_cast<double>(v) * v;
        EXPECT_NEAR(ms / n, 1.0, 1e-6) << cpu_tier_name(tier);
      }
    }
  }
}

// LayerNorm (BERT): the float fast path against the double specification on odd widths (tails
// of the 8-wide sums), many rows (threaded), a large mean (the two-pass variance keeps it),
// without weight or bias, and in place. Bound: float sums of n centred values, relative ~n * 2^-24
// on the variance, far below 1e-5 for n <= 1536; a missing mean subtraction gives O(1).
TEST(Elementwise, LayerNormMatchesReference) {
  for (int64_t n : {1, 7, 64, 257, 384, 1536}) {
    for (int64_t rows : {1, 5, 40}) {
      auto x = random_vec(rows * n + 1, n * rows + 3, 3.0f);
      for (size_t i = 1; i < x.size(); i += 2) x[i] += 50.0f;  // a mean far from zero
      const auto w = random_vec(n + 1, n + 7), b = random_vec(n + 1, n + 9);
      std::vector<float> ref(rows * n), ref_plain(rows * n);
      layernorm_ref(x.data() + 1, w.data() + 1, b.data() + 1, rows, n, 1e-12f, ref.data());
      layernorm_ref(x.data() + 1, nullptr, nullptr, rows, n, 1e-5f, ref_plain.data());
      for (int threads : {1, 3}) {
        global_thread_pool(threads);
        std::vector<float> out(rows * n + 1);
        layernorm(x.data() + 1, w.data() + 1, b.data() + 1, rows, n, 1e-12f, out.data() + 1);
        for (int64_t i = 0; i < rows * n; ++i) {
          ASSERT_NEAR(out[i + 1], ref[i], 1e-5 * (1.0 + std::fabs(ref[i]))) << "n " << n << " i " << i;
        }
        std::vector<float> y(x.begin() + 1, x.end());
        layernorm(y.data(), nullptr, nullptr, rows, n, 1e-5f, y.data());  // in place
        for (int64_t i = 0; i < rows * n; ++i) ASSERT_NEAR(y[i], ref_plain[i], 1e-5 * (1.0 + std::fabs(ref_plain[i])));
      }
      // The specification itself: each row has mean 0 and variance 1 before w and b (n > 1).
      if (n == 1) continue;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += ref_plain[i];
      mean /= n;
      for (int64_t i = 0; i < n; ++i) var += (ref_plain[i] - mean) * (ref_plain[i] - mean);
      EXPECT_NEAR(mean, 0.0, 1e-6);
      EXPECT_NEAR(var / n, 1.0, 1e-4);
    }
  }
}

// Every mode and scaling variant, full and partial rotation, several head sizes and positions:
// the single-token rope and the batch entry point (with its cache of angles) against rope_ref.
TEST(Elementwise, RopeMatchesReferenceOnEveryTier) {
  TierGuard guard;
  std::vector<float> factors(64);
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + 0.25f * static_cast<float>(i % 7);
  const std::vector<int32_t> positions = {0, 1, 17, 3000, 5, 5, 40000, 2};
  for (RopeMode mode : {RopeMode::normal, RopeMode::neox}) {
    for (int64_t head_dim : {64, 80, 128, 18}) {
      for (int variant = 0; variant < 4; ++variant) {
        RopeParams p;
        p.mode = mode;
        p.n_dims = variant == 1 ? static_cast<int>(head_dim / 2) : static_cast<int>(head_dim);
        p.freq_base = 1000000.0f;
        if (variant == 2) {
          p.freq_scale = 0.25f;
          p.freq_factors = factors.data();
        }
        if (variant == 3) {  // YaRN
          p.freq_scale = 1.0f / 40.0f;
          p.ext_factor = 1.0f;
          p.n_ctx_orig = 4096;
        }
        const int n_heads = 3;
        const int64_t n_tok = static_cast<int64_t>(positions.size());
        const int64_t stride = n_heads * head_dim;
        const auto x0 = random_vec(n_tok * stride + 1, head_dim + variant, 3.0f);
        std::vector<float> ref(x0.begin() + 1, x0.end());
        for (int64_t t = 0; t < n_tok; ++t) rope_ref(ref.data() + t * stride, n_heads, head_dim, positions[t], p);
        for (CpuTier tier : tiers()) {
          set_cpu_tier(tier);
          std::vector<float> first;
          for (int threads : {1, 2}) {
            global_thread_pool(threads);
            std::vector<float> x = x0;
            rope_batch(x.data() + 1, n_tok, n_heads, head_dim, positions.data(), p);
            for (int64_t i = 0; i < n_tok * stride; ++i) {
              ASSERT_NEAR(x[i + 1], ref[i], 1e-6) << cpu_tier_name(tier) << " mode " << static_cast<int>(mode)
                                                  << " d " << head_dim << " variant " << variant << " i " << i;
            }
            if (first.empty()) first = x;
            EXPECT_EQ(first, x);
          }
          // One token at a time gives the batch's numbers.
          std::vector<float> y = x0;
          for (int64_t t = 0; t < n_tok; ++t) rope(y.data() + 1 + t * stride, n_heads, head_dim, positions[t], p);
          EXPECT_EQ(first, y) << cpu_tier_name(tier);
          if (variant == 1) {  // dims past n_dims pass through
            for (int64_t t = 0; t < n_tok; ++t) {
              for (int h = 0; h < n_heads; ++h) {
                for (int64_t i = p.n_dims; i < head_dim; ++i) {
                  const int64_t at = 1 + t * stride + h * head_dim + i;
                  EXPECT_EQ(y[at], x0[at]);
                }
              }
            }
          }
        }
      }
    }
  }
}

// The batch's angles are cached by value: new positions, or new frequency factors at the same
// address, are noticed.
TEST(Elementwise, RopeBatchCacheFollowsPositionsAndFactors) {
  TierGuard guard;
  std::vector<float> factors(8, 1.0f);
  RopeParams p;
  p.mode = RopeMode::neox;
  p.n_dims = 16;
  p.freq_factors = factors.data();
  const auto x0 = random_vec(2 * 16, 5);
  auto run = [&](std::vector<int32_t> pos) {
    std::vector<float> x = x0;
    rope_batch(x.data(), 2, 1, 16, pos.data(), p);
    std::vector<float> r = x0;
    for (int t = 0; t < 2; ++t) rope_ref(r.data() + t * 16, 1, 16, pos[t], p);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], r[i], 1e-6) << i;
  };
  run({3, 4});
  run({3, 4});
  run({4, 5});
  factors[2] = 4.0f;
  run({4, 5});
  p.freq_base = 500.0f;
  run({4, 5});
}

}  // namespace
}  // namespace hearth::ops
