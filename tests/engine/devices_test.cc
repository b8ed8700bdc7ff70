// Ollama's default num_ctx by GPU memory (tiers at 23 and 47 GiB), and 4096 without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/devices.h"
#include "model/compute_backend.h"

namespace hearth::engine {
namespace {

TEST(DefaultContext, OllamasTiersByGpuMemory) {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  EXPECT_EQ(context_length_for_gpu_memory(0), 4096);
  EXPECT_EQ(context_length_for_gpu_memory(22 * kGiB), 4096);   // an A10's 24 GB is 22.5 GiB
  EXPECT_EQ(context_length_for_gpu_memory(23 * kGiB), 32768);
  EXPECT_EQ(context_length_for_gpu_memory(47 * kGiB - 1), 32768);
  EXPECT_EQ(context_length_for_gpu_memory(80 * kGiB), 262144);
}

// As Ollama's Serve: every GPU's memory less OLLAMA_GPU_OVERHEAD, summed, picks the tier.
TEST(DefaultContext, GpusAreSummedLessTheOverheadOfEach) {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  EXPECT_EQ(context_length_for_gpus({}, 0), 4096);
  EXPECT_EQ(context_length_for_gpus({24 * kGiB}, 0), 32768);
  EXPECT_EQ(context_length_for_gpus({24 * kGiB}, 2 * kGiB), 4096);
  EXPECT_EQ(context_length_for_gpus({24 * kGiB, 24 * kGiB}, 0), 262144);
  EXPECT_EQ(context_length_for_gpus({24 * kGiB, 24 * kGiB}, kGiB), 32768);  // 46 GiB
  EXPECT_EQ(context_length_for_gpus({12 * kGiB, 12 * kGiB}, 0), 32768);
  // An overhead past a GPU's memory leaves that GPU out rather than wrapping around.
  EXPECT_EQ(context_length_for_gpus({8 * kGiB}, 16 * kGiB), 4096);
  EXPECT_EQ(context_length_for_gpus({8 * kGiB, 40 * kGiB}, 16 * kGiB), 32768);
}

// OLLAMA_GPU_OVERHEAD is an envconfig.Uint64: a malformed value is 0 (a warning), never an error
// that would stop the server from starting where it has a GPU.
TEST(DefaultContext, GpuOverheadAsOllamaReadsIt) {
  for (const char* v : {"-1", "1e9", "lots"}) {
    setenv("HEARTH_GPU_OVERHEAD", v, 1);
    EXPECT_EQ(model::gpu_overhead(), 0u) << v;
  }
  setenv("HEARTH_GPU_OVERHEAD", "1073741824", 1);
  EXPECT_EQ(model::gpu_overhead(), uint64_t{1} << 30);
  unsetenv("HEARTH_GPU_OVERHEAD");
  EXPECT_EQ(model::gpu_overhead(), 0u);
}

TEST(DefaultContext, NoGpuMeans4096) {
  setenv("HEARTH_GPU", "0", 1);
  EXPECT_EQ(default_context_length(), 4096);
  EXPECT_TRUE(compute_devices().empty());
  unsetenv("HEARTH_GPU");
}

}  // namespace
}  // namespace hearth::engine
