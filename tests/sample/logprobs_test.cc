#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sample/logprobs.h"

namespace hearth::sample {
namespace {

TEST(Logprobs, LogSoftmaxOfTheRawLogits) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f};
  const double norm = std::log(std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0));
  Logprobs lp = logprobs_of(logits, 2, 3);
  EXPECT_EQ(lp.chosen.token, 2);
  EXPECT_NEAR(lp.chosen.logprob, 2.0 - norm, 1e-6);
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].token, 1);  // ties by id
  EXPECT_EQ(lp.top[1].token, 3);
  EXPECT_EQ(lp.top[2].token, 2);
  EXPECT_NEAR(lp.top[0].logprob, 3.0 - norm, 1e-6);
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += std::exp(logprobs_of(logits, static_cast<int32_t>(i), 0).chosen.logprob);
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_TRUE(logprobs_of(logits, 0, 0).top.empty());
  EXPECT_EQ(logprobs_of(logits, 0, 10).top.size(), 4u);  // never more than the vocabulary
}

TEST(Logprobs, NanAndInfinityAreImpossibleTokens) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> logits = {std::nanf(""), 0.0f, -inf, 0.0f};
  Logprobs lp = logprobs_of(logits, 1, 4);
  EXPECT_NEAR(lp.chosen.logprob, std::log(0.5), 1e-6);
  EXPECT_EQ(lp.top[0].token, 1);
  EXPECT_EQ(lp.top[1].token, 3);
  EXPECT_TRUE(std::isinf(lp.top[2].logprob));
  const std::vector<float> dead = {-inf, -inf};
  EXPECT_TRUE(std::isinf(logprobs_of(dead, 0, 1).chosen.logprob));
}

}  // namespace
}  // namespace hearth::sample
