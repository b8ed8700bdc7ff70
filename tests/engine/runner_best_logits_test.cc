// The Runner's best-logits path (LoadOptions::device_sampling, HEARTH_DEVICE_SAMPLING) on the
// CPU backend, where it is off unless asked for: asked for, it generates the tokens of the
// whole-row path for greedy, top_k + temperature + top_p, min_p and typical_p over many seeds on
// the tiny Qwen2 model (its real 151,936-entry vocabulary, random weights: flat distributions, so
// the draws spread), and takes whole rows whenever a request needs them (a format's grammar,
// penalties, logprobs, top_k off or above ops::kMaxTopLogits).

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "best_logits_cases.h"
#include "engine/runner.h"
#include "util/error.h"

namespace hearth::engine {
namespace {

const std::vector<int32_t>& kPrompt = testing::kTinyQwenPrompt;

std::unique_ptr<Runner> load(int device_sampling, int num_parallel = 1) {
  return testing::load_tiny_qwen(model::Placement{}, device_sampling, num_parallel);
}

TEST(RunnerBestLogits, SameTokensAsWholeRowsOverSeedsAndSettings) {
  auto whole = load(0), best = load(1);
  const auto want = testing::generated_tokens(*whole, kPrompt, 12, 12);
  const auto got = testing::generated_tokens(*best, kPrompt, 12, 12);
  ASSERT_EQ(got.size(), want.size());
  std::set<std::vector<int32_t>> distinct;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].size(), 12u) << "run " << i;
    EXPECT_EQ(got[i], want[i]) << testing::best_logits_cases()[i / 12].name << " seed " << i % 12 + 1;
    distinct.insert(want[i]);
  }
  // The seeds must matter, or equal tokens would prove little about the draws.
  EXPECT_GT(distinct.size(), want.size() / 2);
  EXPECT_EQ(whole->sampling_counts().best_rows, 0u);
  EXPECT_EQ(best->sampling_counts().whole_rows, 0u);
  EXPECT_EQ(best->sampling_counts().best_rows, want.size() * 12);
}

// Each request that needs the whole row gets it, and the tokens are those of a runner that
// never samples from the best logits.
TEST(RunnerBestLogits, WholeRowsWhenTheSettingsNeedThem) {
  auto whole = load(0), best = load(1);
  struct Case {
    const char* name;
    std::function<void(CompletionRequest&)> set;
  };
  const Case cases[] = {
      {"format json", [](CompletionRequest& r) { r.format = "json"; }},
      {"repeat_penalty", [](CompletionRequest& r) { r.sampling.repeat_penalty = 1.1f; }},
      {"presence_penalty", [](CompletionRequest& r) { r.sampling.presence_penalty = 0.5f; }},
      {"frequency_penalty", [](CompletionRequest& r) { r.sampling.frequency_penalty = 0.5f; }},
      {"logprobs", [](CompletionRequest& r) { r.on_logprobs = [](const sample::Logprobs&) {}; r.top_logprobs = 3; }},
      {"top_k 0", [](CompletionRequest& r) { r.sampling.top_k = 0; }},
      {"top_k 65", [](CompletionRequest& r) { r.sampling.top_k = ops::kMaxTopLogits + 1; }},
  };
  for (const Case& c : cases) {
    CompletionRequest req;
    req.prompt = kPrompt;
    req.sampling.seed = 5;
    req.num_predict = 8;
    c.set(req);
    const uint64_t before = best->sampling_counts().whole_rows;
    const CompletionResult want = whole->complete(req), got = best->complete(req);
    EXPECT_EQ(got.context, want.context) << c.name;
    EXPECT_EQ(best->sampling_counts().best_rows, 0u) << c.name;
    EXPECT_GT(best->sampling_counts().whole_rows, before) << c.name;
  }
}

// Two requests in one runner, one with a format: steps that carry its row read whole rows for
// both, the others only the best; the free request's tokens are still the whole-row path's.
TEST(RunnerBestLogits, ARequestBesideAGrammarRequestKeepsItsTokens) {
  auto whole = load(0), best = load(1, 2);
  CompletionRequest free_text, json;
  free_text.prompt = json.prompt = kPrompt;
  free_text.num_predict = 10;
  json.num_predict = 6;
  free_text.sampling.seed = json.sampling.seed = 9;
  json.format = "json";
  const CompletionResult want = whole->complete(free_text);
  CompletionResult got;
  std::thread other([&] { best->complete(json); });
  got = best->complete(free_text);
  other.join();
  EXPECT_EQ(got.context, want.context);
}

TEST(RunnerBestLogits, AutomaticIsOffOnTheCpuAndTheVariableIsChecked) {
  auto automatic = load(2);
  CompletionRequest req;
  req.prompt = kPrompt;
  req.num_predict = 3;
  automatic->complete(req);
  EXPECT_EQ(automatic->sampling_counts().best_rows, 0u) << "a CPU head saves nothing";
  ::setenv("HEARTH_DEVICE_SAMPLING", "yes", 1);
  EXPECT_THROW(load(-1), Error);
  ::setenv("HEARTH_DEVICE_SAMPLING", "1", 1);
  auto forced = load(-1);
  forced->complete(req);
  EXPECT_GT(forced->sampling_counts().best_rows, 0u);
  ::unsetenv("HEARTH_DEVICE_SAMPLING");
}

}  // namespace
}  // namespace hearth::engine
