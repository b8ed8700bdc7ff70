// top_logits_ref, the specification of sampling's candidates (ops/top_logits.h), checked against
// the definition rather than another sort: every candidate is a distinct id holding its row's
// value (NaN read as -inf), exactly `place` values of the row come before it (greater, or equal
// with a lower id), and max and log-sum-exp match long-double sums. Rows of odd lengths, with
// ties, -inf, NaN and both zeros.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "ops/top_logits.h"

namespace hearth::ops {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Values drawn from a few levels (ties), with some -inf, NaN, -0 and +0.
std::vector<float> awkward_row(int64_t n, uint32_t seed, int levels) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(0, levels - 1), kind(0, 19);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) {
    switch (kind(rng)) {
      case 0: x = -kInf; break;
      case 1: x = std::numeric_limits<float>::quiet_NaN(); break;
      case 2: x = -0.0f; break;
      case 3: x = 0.0f; break;
      default: x = static_cast<float>(level(rng) - levels / 2) * 0.25f;
    }
  }
  return v;
}

void expect_top_logits(const std::vector<float>& row, int k) {
  const int64_t n = static_cast<int64_t>(row.size());
  std::vector<float> out(static_cast<size_t>(top_logits_width(k)));
  top_logits_ref(row.data(), 1, n, k, out.data());
  const TopLogitsRow top{out.data(), k};
  auto value = [&](int64_t i) { return std::isnan(row[i]) ? -kInf : row[i]; };
  std::set<int32_t> seen;
  for (int i = 0; i < k; ++i) {
    if (i >= n) {
      EXPECT_EQ(top.id(i), -1) << "place " << i << " past a row of " << n;
      EXPECT_EQ(top.value(i), -kInf);
      continue;
    }
    const int32_t id = top.id(i);
    ASSERT_TRUE(id >= 0 && id < n) << "place " << i;
    EXPECT_TRUE(seen.insert(id).second) << "id " << id << " twice";
    if (std::isnan(row[id])) {
      EXPECT_EQ(top.value(i), -kInf) << "NaN at " << id;
    } else {
      EXPECT_EQ(std::memcmp(&out[2 + i], &row[id], 4), 0) << "the bits of " << id;
    }
    int64_t before = 0;
    for (int64_t j = 0; j < n; ++j) before += value(j) > value(id) || (value(j) == value(id) && j < id);
    EXPECT_EQ(before, i) << "id " << id << " (n " << n << ", k " << k << ")";
  }
  long double mx = -kInf, sum = 0;
  for (int64_t j = 0; j < n; ++j) mx = std::max<long double>(mx, value(j));
  for (int64_t j = 0; j < n; ++j) sum += std::isfinite(mx) ? std::exp(static_cast<long double>(value(j)) - mx) : 0;
  EXPECT_EQ(top.max(), static_cast<float>(mx));
  if (std::isfinite(mx)) {
    // The reference sums in double and rounds once to float: within a float's rounding.
    const double want = static_cast<double>(mx + std::log(sum));
    EXPECT_NEAR(top.log_sum_exp(), want, 1e-6 * std::max(1.0, std::fabs(want)));
  } else {
    EXPECT_EQ(top.log_sum_exp(), static_cast<float>(mx));
  }
}

TEST(TopLogits, MatchesTheDefinitionOnAwkwardRows) {
  uint32_t seed = 1;
  for (int64_t n : {1, 2, 7, 8, 63, 64, 65, 1000}) {
    for (int k : {1, 40, 64}) {
      for (int levels : {3, 50, 100000}) expect_top_logits(awkward_row(n, seed++, levels), k);
    }
  }
}

TEST(TopLogits, TiesGoToTheLowerIdAndZerosTie) {
  const std::vector<float> row = {1.0f, 3.0f, -0.0f, 3.0f, 0.0f, std::nanf(""), -kInf, 3.0f};
  std::vector<float> out(static_cast<size_t>(top_logits_width(8)));
  top_logits_ref(row.data(), 1, 8, 8, out.data());
  const TopLogitsRow top{out.data(), 8};
  const int32_t want[] = {1, 3, 7, 0, 2, 4, 5, 6};  // 3s by id, 1, the zeros by id, NaN and -inf by id
  for (int i = 0; i < 8; ++i) EXPECT_EQ(top.id(i), want[i]) << "place " << i;
  EXPECT_EQ(top.value(6), -kInf) << "NaN reads as -inf";
  EXPECT_TRUE(std::signbit(top.value(4))) << "-0 is reported as it is";
}

TEST(TopLogits, RowsOfOnlyMinusInfinity) {
  const std::vector<float> row = {-kInf, std::nanf(""), -kInf};
  std::vector<float> out(static_cast<size_t>(top_logits_width(2)));
  top_logits_ref(row.data(), 1, 3, 2, out.data());
  const TopLogitsRow top{out.data(), 2};
  EXPECT_EQ(top.max(), -kInf);
  EXPECT_EQ(top.log_sum_exp(), -kInf);
  EXPECT_EQ(top.id(0), 0);
  EXPECT_EQ(top.id(1), 1);
}

TEST(TopLogits, SeveralRows) {
  const std::vector<float> rows = {0.5f, 2.0f, 1.0f, 9.0f, -1.0f, 9.0f};
  std::vector<float> out(static_cast<size_t>(2 * top_logits_width(2)));
  top_logits_ref(rows.data(), 2, 3, 2, out.data());
  const TopLogitsRow a{out.data(), 2}, b{out.data() + top_logits_width(2), 2};
  EXPECT_EQ(a.id(0), 1);
  EXPECT_EQ(a.id(1), 2);
  EXPECT_EQ(b.id(0), 0);
  EXPECT_EQ(b.id(1), 2);
  EXPECT_NEAR(b.log_sum_exp(), 9.0 + std::log(2.0 + std::exp(-10.0)), 1e-6);
}

}  // namespace
}  // namespace hearth::ops
