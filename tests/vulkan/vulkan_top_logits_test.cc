// shaders/top_logits.comp and top_logits_merge.comp against ops::top_logits_ref ("cpu-ref"):
// candidates (values' bits and ids) and max equal, log-sum-exp within float rounding, on rows of
// 1, 7, 8, 1,000 and 151,936 logits (Qwen2's vocabulary: 19 chunks of 8,192, 32 values per
// invocation per pass, far below lavapipe's 65,535 loop iterations), K = 1, 40, 64, normal values
// and rows of few levels with -inf, NaN and both zeros (ties everywhere, where the radix select's
// last byte and the id order matter); rows cut into several chunks (one workgroup each, then the
// merge; vulkan::testing::top_logits_chunk says where they end) with the k best and the ties at
// the k-th across the chunks' edges, in the last, short chunk, or in no chunk but one.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "op_compare.h"
#include "ops/top_logits.h"
#include "vulkan/vk_testing.h"

namespace hearth {
namespace {

using namespace vulkan::testing;

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> tied_rows(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(0, 6), kind(0, 9);
  std::vector<float> v(n);
  for (float& x : v) {
    const int c = kind(rng);
    x = c == 0 ? -kInf : c == 1 ? std::nanf("") : c == 2 ? -0.0f : c == 3 ? 0.0f : static_cast<float>(level(rng)) - 3.0f;
  }
  return v;
}

void compare(ops::Backend& gpu, ops::Backend& ref, const std::vector<float>& logits, int64_t n_rows, int64_t n, int k,
             const std::string& what) {
  const Both in = f32(gpu, ref, logits, n, n_rows);
  const int64_t width = ops::top_logits_width(k);
  const Both out = empty(gpu, ref, width, n_rows);
  gpu.top_logits(in.g, n_rows, n, k, out.g);
  ref.top_logits(in.r, n_rows, n, k, out.r);
  const auto g = read(gpu, out.g, n_rows * width), r = read(ref, out.r, n_rows * width);
  for (int64_t row = 0; row < n_rows; ++row) {
    const ops::TopLogitsRow a{g.data() + row * width, k}, b{r.data() + row * width, k};
    const std::string at = what + " row " + std::to_string(row);
    EXPECT_EQ(a.max(), b.max()) << at;
    if (std::isfinite(b.log_sum_exp())) {
      // Float sums of up to 152k terms in a tree: a few units in the last place of the sum.
      EXPECT_NEAR(a.log_sum_exp(), b.log_sum_exp(), 2e-5 * std::max(1.0f, std::fabs(b.log_sum_exp()))) << at;
    } else {
      EXPECT_EQ(a.log_sum_exp(), b.log_sum_exp()) << at;
    }
    for (int i = 0; i < k; ++i) {
      ASSERT_EQ(a.id(i), b.id(i)) << at << " place " << i;
      ASSERT_EQ(std::memcmp(&a.data[2 + i], &b.data[2 + i], 4), 0) << at << " value at place " << i;
    }
  }
  ops::Tensor t[] = {in.g, out.g};
  for (auto& x : t) gpu.release(x);
}

TEST(VulkanTopLogits, EqualTheReferenceOnOddRows) {
  NEED_DEVICE();
  uint32_t seed = 1;
  for (int64_t n : {1, 7, 8, 1000, 151936}) {
    const int64_t n_rows = n > 1000 ? 2 : 3;
    for (int k : {1, 40, 64}) {
      const std::string what = "n " + std::to_string(n) + " k " + std::to_string(k);
      compare(*gpu, *ref, normal(static_cast<size_t>(n * n_rows), seed++, 3.0f), n_rows, n, k, what + " normal");
      compare(*gpu, *ref, tied_rows(static_cast<size_t>(n * n_rows), seed++), n_rows, n, k, what + " tied");
    }
  }
}

TEST(VulkanTopLogits, RowsOfOnlyMinusInfinityAndEqualValues) {
  NEED_DEVICE();
  for (float fill : {-kInf, std::nanf(""), 1.5f, 0.0f}) {
    std::vector<float> rows(3 * 777, fill);
    rows[2 * 777 + 500] = 2.0f;  // the last row has one value above the rest
    compare(*gpu, *ref, rows, 3, 777, 64, "filled with " + std::to_string(fill));
  }
}

// Rows of n logits made for the merge of the chunks' results (`chunk` logits each, the last
// shorter): the best values and the ties at the k-th placed at the chunks' edges, in the last
// chunk only, or only in chunks full of -inf and NaN but one.
std::vector<float> chunked_row(int64_t n, int64_t chunk, int pattern, uint32_t seed) {
  std::vector<float> v = normal(static_cast<size_t>(n), seed, 0.5f);
  std::mt19937 rng(seed);
  auto at = [&](int64_t i, float x) {
    if (i >= 0 && i < n) v[static_cast<size_t>(i)] = x;
  };
  const int64_t last = (n - 1) / chunk * chunk;  // the first id of the last chunk
  switch (pattern) {
    case 0:  // four equal best logits across every edge (more than 64 of them in a long row)
      for (int64_t e = chunk; e < n; e += chunk) {
        for (int64_t d = -2; d < 2; ++d) at(e + d, 7.0f);
      }
      break;
    case 1:  // 20 best anywhere, then the k-th among ties at 2 sitting on every edge
      for (int i = 0; i < 20; ++i) at(std::uniform_int_distribution<int64_t>(0, n - 1)(rng), 3.0f);
      for (int64_t e = chunk; e < n; e += chunk) {
        for (int64_t d = -5; d < 5; ++d) at(e + d, 2.0f);
      }
      break;
    case 2:  // zeros of both signs everywhere; the best few in the last chunk; -inf and NaN mixed in
      for (size_t i = 0; i < v.size(); ++i) {
        v[i] = i % 7 == 3 ? -kInf : i % 11 == 5 ? std::nanf("") : (i % 2 ? -0.0f : 0.0f);
      }
      for (int64_t i = last; i < n; i += 3) at(i, 1.0f);
      at(n - 1, 1.5f);
      break;
    default:  // only -inf and NaN but in the last chunk
      for (int64_t i = 0; i < last; ++i) v[static_cast<size_t>(i)] = i % 2 ? -kInf : std::nanf("");
      break;
  }
  return v;
}

TEST(VulkanTopLogits, TheBestAcrossChunksEqualTheReference) {
  NEED_DEVICE();
  uint32_t seed = 100;
  for (int64_t n : {int64_t{151936}, 3 * vulkan::testing::top_logits_chunk(24581) + 5, vulkan::testing::top_logits_chunk(8193) + 1}) {
    const int64_t chunk = vulkan::testing::top_logits_chunk(n);
    ASSERT_GT(n, chunk) << "n " << n << " fits one chunk: nothing to merge";
    ASSERT_NE(n % chunk, 0) << "n " << n << ": the last chunk should be short";
    for (int pattern = 0; pattern < 4; ++pattern) {
      std::vector<float> rows;
      for (int r = 0; r < 2; ++r) {
        const std::vector<float> row = chunked_row(n, chunk, pattern, seed++);
        rows.insert(rows.end(), row.begin(), row.end());
      }
      for (int k : {1, 40, 64}) {
        compare(*gpu, *ref, rows, 2, n, k,
                "n " + std::to_string(n) + " chunk " + std::to_string(chunk) + " pattern " +
                    std::to_string(pattern) + " k " + std::to_string(k));
        if (HasFatalFailure()) return;
      }
    }
  }
}

}  // namespace
}  // namespace hearth
