#include "engine/context_fit.h"

#include <gtest/gtest.h>

#include <numeric>

namespace hearth::engine {
namespace {

std::vector<int32_t> iota(int n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

TEST(ContextFit, KeepCountsTheBosAndStaysBelowTheContext) {
  EXPECT_EQ(context_keep(4, 100, true, 64), 5);
  EXPECT_EQ(context_keep(4, 100, false, 64), 4);
  EXPECT_EQ(context_keep(0, 100, true, 64), 1);
  EXPECT_EQ(context_keep(-1, 30, true, 64), 30);   // the whole prompt, BOS included already
  EXPECT_EQ(context_keep(-1, 100, true, 64), 63);  // one position stays free
  EXPECT_EQ(context_keep(1000, 100, true, 64), 63);
  EXPECT_EQ(context_keep(4, 10, true, 1), 0);
  EXPECT_EQ(context_keep(2147483647, 10, true, 64), 63);  // no overflow past INT_MAX
}

TEST(ContextFit, PromptFitsBelowTheContextOnly) {
  EXPECT_TRUE(prompt_fits(63, 64));
  EXPECT_FALSE(prompt_fits(64, 64));
  EXPECT_FALSE(prompt_fits(1, 0));
}

// Ollama's contextShiftPromptLimit: num_ctx - max((num_ctx - keep) / 2, 1) tokens, the first
// `keep` and the newest rest.
TEST(ContextFit, CutKeepsTheStartAndTheNewestTail) {
  const std::vector<int32_t> t = iota(200);
  std::vector<int32_t> cut = cut_prompt(t, 64, 5);
  ASSERT_EQ(cut.size(), 35u);  // 64 - 29
  EXPECT_EQ(std::vector<int32_t>(cut.begin(), cut.begin() + 5), iota(5));
  EXPECT_EQ(cut[5], 170);
  EXPECT_EQ(cut.back(), 199);
  cut = cut_prompt(t, 64, 63);  // keep all it can: the first 63
  EXPECT_EQ(cut, iota(63));
  cut = cut_prompt(t, 64, 0);   // 64 - 32 = 32 newest
  ASSERT_EQ(cut.size(), 32u);
  EXPECT_EQ(cut.front(), 168);
  EXPECT_EQ(cut_prompt(iota(20), 64, 5), iota(20));  // already short enough: unchanged
  EXPECT_TRUE(cut_prompt(t, 1, 0).empty());
}

TEST(ContextFit, ShiftDropsHalfOfWhatFollowsTheKeptStart) {
  EXPECT_EQ(shift_discard(32, 5), 13u);
  EXPECT_EQ(shift_discard(32, 0), 16u);
  EXPECT_EQ(shift_discard(32, 31), 1u);  // at least one
  EXPECT_EQ(shift_discard(32, 40), 1u);
}

}  // namespace
}  // namespace hearth::engine
