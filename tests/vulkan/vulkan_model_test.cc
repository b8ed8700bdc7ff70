// Whole models on the Vulkan backend (lavapipe here and in CI): greedy tokens of the shared tiny
// fixtures equal the CPU backends', all layers on the device and half of them (the last half and
// the head, as num_gpu offloads); four sequences decoded together equal each decoded alone; the
// prompt-prefix reuse goes through the device's cache copy.
//
// The reference is the scalar CPU backend ("cpu-ref"): like the shaders it multiplies float
// activations with the dequantized weights. The fast CPU backend first rounds activations to 8
// bits for quantized weights (as llama.cpp's CPU backend does), which moves logits by ~1e-3 and
// turns greedy choices where these random-weight models have near-ties (qwen2-tiny256-q4_k_m at
// its 5th token, llama3-tiny-q8_0 at its 18th), so token equality is asked of it only for the
// F32 model, where no rounding differs.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/runner.h"
#include "util/error.h"
#include "test_device.h"
#include "vulkan/vk_device.h"

namespace hearth::engine {
namespace {

const std::string kDir = HEARTH_TESTDATA_DIR;

using vulkan::testing::test_device;

CompletionRequest greedy(std::vector<int32_t> prompt, int n) {
  CompletionRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.num_predict = n;
  return r;
}

std::vector<int32_t> run(const std::string& file, const model::Placement& p, const std::vector<int32_t>& prompt, int n,
                         const std::string& kv_cache_type = "") {
  LoadOptions o;
  o.num_thread = 2;
  o.num_ctx = 256;
  o.placement = p;
  o.kv_cache_type = kv_cache_type;
  auto r = Runner::load(kDir + "/" + file, o);
  const CompletionResult res = r->complete(greedy(prompt, n));
  return std::vector<int32_t>(res.context.begin() + static_cast<long>(prompt.size()), res.context.end());
}

TEST(VulkanModels, GreedyTokensEqualTheCpuBackends) {
  const int dev = test_device();
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device (install mesa-vulkan-drivers)";
  const std::string vk = "vulkan:" + std::to_string(dev);
  struct Fixture {
    const char* file;
    int n_layer;
  };
  for (Fixture f : {Fixture{"stories260K.gguf", 5}, Fixture{"qwen2-tiny-q8_0.gguf", 2},
                    Fixture{"qwen2-tiny-q4_k_m.gguf", 2}, Fixture{"qwen2-tiny256-q4_k_m.gguf", 2},
                    Fixture{"llama3-tiny-q8_0.gguf", 2}, Fixture{"qwen3-tiny-q8_0.gguf", 2},
                    Fixture{"deepseek2-tiny-q8_0.gguf", 3}}) {
    const std::vector<int32_t> prompt = {1, 400, 300, 200, 100, 7, 8, 9};
    const auto cpu = run(f.file, {"cpu-ref", "", 0}, prompt, 24);
    ASSERT_EQ(cpu.size(), 24u) << f.file;
    EXPECT_EQ(run(f.file, {vk, "", 0}, prompt, 24), cpu) << f.file << " on " << vk;
    EXPECT_EQ(run(f.file, {"cpu-ref", vk, f.n_layer / 2 + 1}, prompt, 24), cpu) << f.file << " split";
    if (std::string(f.file) == "stories260K.gguf") EXPECT_EQ(run(f.file, {}, prompt, 24), cpu);
  }
}

// Quantized KV caches (OLLAMA_KV_CACHE_TYPE=q8_0 / q4_0) on the device: store_kv quantizes as
// the CPU does and attention reads the blocks, so greedy tokens equal cpu-ref's with the same
// cache type (whose attention is ops::attention_ref over the same bytes), all layers on the GPU
// and half of them.
TEST(VulkanModels, QuantizedCachesGiveTheCpuBackendsTokens) {
  const int dev = test_device();
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device";
  const std::string vk = "vulkan:" + std::to_string(dev);
  const std::vector<int32_t> prompt = {1, 400, 300, 200, 100, 7, 8, 9};
  for (const auto& [file, kv] : {std::pair{"qwen3-tiny-q8_0.gguf", "q8_0"}, std::pair{"llama3-tiny-q8_0.gguf", "q8_0"},
                                 std::pair{"stories260K.gguf", "q8_0"}, std::pair{"qwen2-tiny-q8_0.gguf", "q4_0"}}) {
    const auto cpu = run(file, {"cpu-ref", "", 0}, prompt, 24, kv);
    ASSERT_EQ(cpu.size(), 24u) << file;
    EXPECT_EQ(run(file, {vk, "", 0}, prompt, 24, kv), cpu) << file << " " << kv << " on " << vk;
    EXPECT_EQ(run(file, {"cpu-ref", vk, 2}, prompt, 24, kv), cpu) << file << " " << kv << " split";
  }
}

// Sliding-window layers in rings on the device: a gemma3 file written by random-gguf (window 8,
// as tests/engine/runner_test.cc) with num_batch 4 keeps rings of 64 slots in its six
// windowed layers, all on the GPU; 130 greedy tokens after a 20-token prompt (the rings wrap
// twice) equal cpu-ref's with whole-context caches (num_batch 512: no ring).
TEST(VulkanModels, SlidingWindowRingsGiveTheTokensOfWholeCaches) {
  const int dev = test_device();
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device";
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "hearth_vulkan_ring";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "gemma3.gguf").string();
  const std::string cmd = std::string(HEARTH_BINARY_DIR) + "/tools/random-gguf --vocab-from " + kDir +
                          "/stories260K.gguf --arch gemma3 --n-embd 256 --n-layer 7 --n-head 4 --n-head-kv 2"
                          " --head-dim 64 --n-ff 512 --n-ctx 4096 --window 8 --rope-base 1000000 --std 0.01"
                          " --seed 5 --type f32 -o " + path + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<int32_t> prompt = {1};
  for (int i = 1; i < 20; ++i) prompt.push_back(3 + (i * 37) % 500);
  std::vector<int32_t> got[2];
  for (int i = 0; i < 2; ++i) {
    LoadOptions o;
    o.num_thread = 2;
    o.num_ctx = 160;
    o.num_batch = i == 0 ? 4 : 512;
    o.placement = i == 0 ? model::Placement{"vulkan:" + std::to_string(dev), "", 0} : model::Placement{"cpu-ref", "", 0};
    auto r = Runner::load(path, o);
    got[i] = r->complete(greedy(prompt, 130)).context;
  }
  EXPECT_EQ(got[0].size(), 150u);
  EXPECT_EQ(got[0], got[1]);
  std::filesystem::remove(path);
}

TEST(VulkanModels, FourSequencesTogetherEqualEachAlone) {
  const int dev = test_device();
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device";
  LoadOptions o;
  o.num_thread = 2;
  o.num_ctx = 128;
  o.num_parallel = 4;
  o.placement = {"vulkan:" + std::to_string(dev), "", 0};
  auto r = Runner::load(kDir + "/qwen3-tiny-q8_0.gguf", o);
  std::vector<std::vector<int32_t>> prompts = {{10, 11, 12}, {20, 21}, {30, 31, 32, 33}, {10, 11, 12, 13}};
  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : prompts) alone.push_back(r->complete(greedy(p, 16)).context);
  std::vector<CompletionResult> together(4);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) ts.emplace_back([&, i] { together[i] = r->complete(greedy(prompts[i], 16)); });
  for (auto& t : ts) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(together[i].context, alone[i]) << "sequence " << i;
  // The first prompt again: its prefix is reused from a slot's cache (copied on the device).
  EXPECT_EQ(r->complete(greedy(prompts[0], 16)).context, alone[0]);
}

// Out of device memory is an error that says so, never a crash: a KV cache larger than a storage
// buffer may cover (lavapipe: 128 MiB) fails the load, naming the limit; the process goes on and
// loads the same model with a context that fits.
TEST(VulkanModels, OutOfDeviceMemoryIsAClearError) {
  const int dev = test_device();
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device";
  LoadOptions o;
  o.num_thread = 1;
  o.num_ctx = 4096;
  // qwen3-tiny's K of a position: 2 KV heads x 16 floats = 128 bytes; 512 sequences of 4096
  // positions make a 256 MiB tensor.
  o.num_parallel = 512;
  o.kv_cache_type = "f32";
  o.placement = {"vulkan:" + std::to_string(dev), "", 0};
  try {
    Runner::load(kDir + "/qwen3-tiny-q8_0.gguf", o);
    FAIL() << "a 256 MiB cache tensor loaded on a device whose buffers cover 128 MiB";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::resource_exhausted) << e.what();
    EXPECT_NE(std::string(e.what()).find("MiB"), std::string::npos) << e.what();
  }
  o.num_parallel = 1;
  auto r = Runner::load(kDir + "/qwen3-tiny-q8_0.gguf", o);
  EXPECT_EQ(r->complete(greedy({10, 11, 12}, 4)).context.size(), 7u);
}

}  // namespace
}  // namespace hearth::engine
