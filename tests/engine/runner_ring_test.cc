// Sliding-window rings through the runner (model/kv_cache.h). A gemma3 file written by
// random-gguf (window 8, the shape of llamacpp_agreement_test's) run with a context of 160:
// with num_batch 4 its six windowed layers keep rings of 8 + 3 -> 64 slots; with num_batch 512
// a ring would not be smaller than the context, so every layer keeps the whole of it. Both
// runners give the same greedy tokens for a prompt that shares a long prefix with the previous
// request (the rings still hold its window: reused), one that shares a short prefix (the rings
// have moved past it: evaluated again), and a generation that fills the context and shifts it
// (the rings no longer hold the kept first positions: evaluated again with the rest).

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/runner.h"

namespace hearth::engine {
namespace {

CompletionRequest greedy(std::vector<int32_t> prompt, int n) {
  CompletionRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.num_predict = n;
  return r;
}

std::vector<int32_t> tokens(int n, int salt) {
  std::vector<int32_t> t = {1};
  for (int i = 1; i < n; ++i) t.push_back(static_cast<int32_t>(3 + (i * 37 + salt * 101) % 500));
  return t;
}

TEST(RunnerRing, WindowedLayersInRingsGiveTheTokensOfWholeCaches) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "hearth_runner_ring";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "gemma3.gguf").string();
  const std::string cmd = std::string(HEARTH_BINARY_DIR) + "/tools/random-gguf --vocab-from " +
                          HEARTH_TESTDATA_DIR + "/stories260K.gguf --arch gemma3 --n-embd 256 --n-layer 7"
                          " --n-head 4 --n-head-kv 2 --head-dim 64 --n-ff 512 --n-ctx 4096 --window 8"
                          " --rope-base 1000000 --std 0.01 --seed 5 --type f32 -o " + path + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::unique_ptr<Runner> runner[2];
  for (int i = 0; i < 2; ++i) {
    LoadOptions o;
    o.num_thread = 1;
    o.num_ctx = 160;
    o.num_batch = i == 0 ? 4 : 512;
    runner[i] = Runner::load(path, o);
  }
  // F16 K and V of 2 heads of 64 per position: 512 bytes; rings of 64 in six layers, 160 in one.
  EXPECT_EQ(runner[0]->memory_bytes() - runner[0]->file_size(), (6 * 64 + 160) * 512u);
  EXPECT_EQ(runner[1]->memory_bytes() - runner[1]->file_size(), 7 * 160 * 512u);

  CompletionResult a[2], b[2], c[2], d[2];
  for (int i = 0; i < 2; ++i) {
    a[i] = runner[i]->complete(greedy(tokens(100, 1), 5));
    std::vector<int32_t> longer = a[i].context;
    for (int32_t t : tokens(10, 2)) longer.push_back(t + 1);
    b[i] = runner[i]->complete(greedy(longer, 8));
    std::vector<int32_t> shorter(a[i].context.begin(), a[i].context.begin() + 50);
    for (int32_t t : tokens(12, 3)) shorter.push_back(t + 2);
    c[i] = runner[i]->complete(greedy(shorter, 8));
    d[i] = runner[i]->complete(greedy(tokens(20, 4), 300));
  }
  EXPECT_EQ(a[0].context, a[1].context);
  EXPECT_EQ(b[0].context, b[1].context);
  EXPECT_EQ(c[0].context, c[1].context);
  EXPECT_EQ(d[0].context, d[1].context);
  // b reused what a left in the cache (a's prompt and what it fed back), in rings too; c's 50
  // shared positions are reused by whole caches only (after b the rings hold positions past 50).
  EXPECT_LE(b[0].prompt_eval_count, 11);
  EXPECT_EQ(b[1].prompt_eval_count, b[0].prompt_eval_count);
  EXPECT_EQ(c[0].prompt_eval_count, 62);
  EXPECT_EQ(c[1].prompt_eval_count, 12);
  // The long generation went past the context (shifted) and on to its num_predict.
  EXPECT_EQ(d[0].eval_count, 300);
  EXPECT_EQ(d[0].done_reason, "length");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hearth::engine
