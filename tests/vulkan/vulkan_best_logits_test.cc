// Sampling from the best logits on the device (lavapipe here): a Runner whose output head runs on
// Vulkan reads each row's best logits (shaders/top_logits.comp) instead of whole rows by default,
// and generates the tokens of the same runner reading whole rows (HEARTH_DEVICE_SAMPLING=0's
// path) for greedy, top_k + temperature + top_p, min_p and typical_p over several seeds, with
// the whole model on the device and with only its last layer and head there; penalties still read
// whole rows.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../engine/best_logits_cases.h"
#include "engine/runner.h"
#include "test_device.h"

namespace hearth::engine {
namespace {

const std::vector<int32_t>& kPrompt = testing::kTinyQwenPrompt;

TEST(VulkanBestLogits, SameTokensAsWholeRows) {
  NEED_VULKAN();
  for (const model::Placement& p : {model::Placement{vk, "", 0}, model::Placement{"cpu", vk, 1}}) {
    const std::string where = p.offload_backend.empty() ? "all on " + vk : "head and last layer on " + vk;
    auto whole = testing::load_tiny_qwen(p, 0), best = testing::load_tiny_qwen(p, 2);
    const auto want = testing::generated_tokens(*whole, kPrompt, 5, 10);
    const auto got = testing::generated_tokens(*best, kPrompt, 5, 10);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(want[i].size(), 10u);
      EXPECT_EQ(got[i], want[i]) << where << ": " << testing::best_logits_cases()[i / 5].name << " seed " << i % 5 + 1;
    }
    EXPECT_EQ(best->sampling_counts().whole_rows, 0u) << where << ": the device head samples from the best";
    EXPECT_EQ(best->sampling_counts().best_rows, want.size() * 10) << where;
    EXPECT_EQ(whole->sampling_counts().best_rows, 0u) << where;

    CompletionRequest penalised;
    penalised.prompt = kPrompt;
    penalised.num_predict = 4;
    penalised.sampling.repeat_penalty = 1.2f;
    penalised.sampling.seed = 3;
    EXPECT_EQ(best->complete(penalised).context, whole->complete(penalised).context) << where;
    EXPECT_EQ(best->sampling_counts().whole_rows, 4u) << where << ": penalties read whole rows";
  }
}

}  // namespace
}  // namespace hearth::engine
