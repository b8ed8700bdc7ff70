// What `hearth bench --memory` divides by: the weight bytes one decode step reads.

#include "engine/model_bench.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace hearth::engine {
namespace {

// deepseek2-tiny: every tensor once, the embedding table one row (64 Q8_0 values = 68 bytes),
// and of each of the 6 expert stacks (layers 1-2 x gate/up/down, 17,408 bytes for 8 experts)
// the 2 chosen experts' share: 6 x 17,408 x 6/8 = 78,336 bytes less than the whole stacks.
TEST(ModelBench, DecodeReadsOneEmbeddingRowAndTheChosenExperts) {
  ModelBench b(std::string(HEARTH_TESTDATA_DIR) + "/deepseek2-tiny-q8_0.gguf", {"cpu-ref", "", 0});
  uint64_t all = 0;
  for (const auto& t : b.model().file().tensors()) all += t.n_bytes;
  const uint64_t embd = b.model().file().tensor("token_embd.weight").n_bytes;
  EXPECT_EQ(b.weight_bytes_per_token(), all - embd + 68 - 78336);
}

// qwen2-tiny: 2 layers, 2 KV heads of 16: a position is 2 x 2 x 16 = 64 K and V elements a layer.
TEST(ModelBench, DecodeReadsTheCachePositionsSoFar) {
  ModelBench b(std::string(HEARTH_TESTDATA_DIR) + "/qwen2-tiny-q8_0.gguf", {"cpu-ref", "", 0});
  BenchSpec tg{0, 9, 1, 512};
  tg.n_depth = 100;  // the 9 steps read 101 ... 109 positions: 105 on average
  EXPECT_EQ(b.cache_bytes_per_step(tg), 105u * 2 * 64 * 2);  // f16
  tg.kv_cache_type = "q8_0";  // each 32-element row of a head pair: 34 bytes
  EXPECT_EQ(b.cache_bytes_per_step(tg), 105u * 2 * 2 * 34);
  tg.n_parallel = 3;
  EXPECT_EQ(b.cache_bytes_per_step(tg), 3u * 105 * 2 * 2 * 34);
  const BenchSpec pp{512, 0, 1, 512};
  EXPECT_EQ(b.cache_bytes_per_step(pp), 0u);
}

// The hook runs once per test, between the warm-up and the timed repetitions.
TEST(ModelBench, BeforeTimedRunsOnceBeforeTheRepetitions) {
  ModelBench b(std::string(HEARTH_TESTDATA_DIR) + "/qwen2-tiny-q8_0.gguf", {"cpu-ref", "", 0});
  for (const BenchSpec& spec : {BenchSpec{0, 4, 3, 512}, BenchSpec{8, 0, 2, 512}}) {
    int calls = 0;
    const BenchResult r = b.run(spec, [&] { ++calls; });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(r.samples_ns.size(), static_cast<size_t>(spec.reps));
  }
}

// The interleaved probe's hook runs after every step of the timed tg repetitions (not the warm-up,
// not a prompt test), and its time is not the steps': a hook that sleeps 200 ms a step would add
// 0.8 s to each 4-step sample if it were timed.
TEST(ModelBench, BetweenStepsRunsAfterEachTimedStepUntimed) {
  ModelBench b(std::string(HEARTH_TESTDATA_DIR) + "/qwen2-tiny-q8_0.gguf", {"cpu-ref", "", 0});
  int calls = 0;
  const BenchResult tg = b.run(BenchSpec{0, 4, 2, 512}, {}, [&] {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  });
  EXPECT_EQ(calls, 4 * 2);
  ASSERT_EQ(tg.samples_ns.size(), 2u);
  for (int64_t ns : tg.samples_ns) EXPECT_LT(ns, 400'000'000);
  calls = 0;
  b.run(BenchSpec{8, 0, 2, 512}, {}, [&] { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace hearth::engine
