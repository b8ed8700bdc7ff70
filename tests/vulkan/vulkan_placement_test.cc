// Where layers go by default (model::plan_placement, Ollama's num_gpu rules) and that a model
// larger than the GPU's budget is split between the GPU and the CPU, not refused: lavapipe stands
// in for the GPU (named by HEARTH_VULKAN_DEVICE), HEARTH_GPU_OVERHEAD shrinks its budget.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/runner.h"
#include "gguf/gguf_writer.h"
#include "model/compute_backend.h"
#include "test_device.h"
#include "vulkan/vk_device.h"

namespace hearth {
namespace {

const std::string kDir = HEARTH_TESTDATA_DIR;

// Sizes as the plan counts them: per layer (blk.N.*), and the head (output + output_norm).
struct Sizes {
  std::vector<uint64_t> layer;
  uint64_t head = 0;
};
Sizes sizes(const gguf::File& f, int n_layer) {
  Sizes s;
  s.layer.resize(static_cast<size_t>(n_layer));
  for (const auto& t : f.tensors()) {
    if (t.name.rfind("blk.", 0) == 0) s.layer[std::stoul(t.name.substr(4))] += t.n_bytes;
    else if (t.name != "token_embd.weight") s.head += t.n_bytes;
  }
  return s;
}

// deepseek2's latent attention fits the attention shader up to DeepSeek's 512 + 64 (a latent of
// 1024 does not), and the router shader takes up to 32 expert groups and 256 experts: other
// models stay on the CPU whatever num_gpu says.
TEST(Placement, WhatTheShadersCannotRunStaysOnTheCpu) {
  auto plan_for = [](int64_t kv_lora, int64_t groups, int64_t experts = 64) {
    gguf::Writer w;
    w.set_string("general.architecture", "deepseek2");
    w.set_u32("deepseek2.block_count", 2);
    w.set_u32("deepseek2.attention.kv_lora_rank", static_cast<uint32_t>(kv_lora));
    w.set_u32("deepseek2.rope.dimension_count", 64);
    w.set_u32("deepseek2.attention.key_length", 192);
    w.set_u32("deepseek2.attention.value_length", 128);
    w.set_u32("deepseek2.expert_group_count", static_cast<uint32_t>(groups));
    w.set_u32("deepseek2.expert_group_used_count", 4);
    w.set_u32("deepseek2.expert_count", static_cast<uint32_t>(experts));
    const std::vector<uint8_t> bytes = w.to_bytes();
    const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "ds.gguf");
    model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
    return model::plan_placement_on(gpu, f, -1, 64, 1, gguf::GgmlType::F16).placement.n_offload;
  };
  EXPECT_EQ(plan_for(512, 8), 2);
  EXPECT_EQ(plan_for(1024, 8), 0);
  EXPECT_EQ(plan_for(512, 64), 0);
  EXPECT_EQ(plan_for(512, 8, 256), 2);
  EXPECT_EQ(plan_for(512, 8, 257), 0);
}

TEST(Placement, NumGpuRules) {
  const gguf::File f = gguf::File::open(kDir + "/stories260K.gguf");
  const Sizes s = sizes(f, 5);
  // KV per layer at n_ctx 64, one sequence, F16: 64 positions x 4 KV heads x (8 + 8) x 2 bytes
  // (stories260K: dim 64 over 8 heads).
  const uint64_t kv = 64 * 4 * 16 * 2;
  const uint64_t reserve = uint64_t{512} << 20;
  auto plan = [&](uint64_t budget, int num_gpu) {
    model::Gpu gpu{"vulkan:9", "test GPU", "test", budget / 9 * 10 + 10};
    return model::plan_placement_on(gpu, f, num_gpu, 64, 1, gguf::GgmlType::F16);
  };
  EXPECT_EQ(plan(uint64_t{1} << 40, -1).placement.n_offload, 5);  // everything fits
  EXPECT_EQ(plan(uint64_t{1} << 40, -1).placement.offload_backend, "vulkan:9");
  EXPECT_EQ(plan(uint64_t{1} << 40, 2).placement.n_offload, 2);   // as many as asked
  EXPECT_EQ(plan(uint64_t{1} << 40, 9).placement.n_offload, 5);
  EXPECT_EQ(plan(uint64_t{1} << 40, 0).placement.n_offload, 0);   // num_gpu 0: the CPU
  EXPECT_EQ(plan(reserve, -1).placement.n_offload, 0);            // nothing fits
  // Room for the head and the last two layers, not a third: the last two go.
  const uint64_t two = reserve + s.head + s.layer[4] + s.layer[3] + 2 * kv;
  const auto p = plan(two + (s.layer[2] + kv) / 2, -1);
  EXPECT_EQ(p.placement.n_offload, 2);
  EXPECT_EQ(p.placement.backend, "cpu");
  EXPECT_EQ(p.gpu_bytes, two - reserve);
}

// Layers the shaders cannot run (a weight type without a shader) stay on the CPU, and so does
// every layer before them (layers are offloaded from the last one down).
TEST(Placement, LayersTheGpuCannotRunStayOnTheCpu) {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 3);
  w.set_u32("llama.embedding_length", 256);
  w.set_u32("llama.attention.head_count", 4);
  const std::vector<uint8_t> f32(2 * 256 * 4, 0);
  for (int il = 0; il < 3; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    w.add_tensor(p + "attn_norm.weight", gguf::GgmlType::F32, {256}, f32.data(), 256 * 4);
    w.add_tensor(p + "attn_q.weight", gguf::GgmlType::F32, {256, 1}, f32.data(), 256 * 4);
    // Layer 1 holds a Q8_1 matrix, a type without a shader.
    if (il == 1) w.add_tensor(p + "ffn_up.weight", gguf::GgmlType::Q8_1, {256, 1}, f32.data(), 8 * 36);
  }
  w.add_tensor("output.weight", gguf::GgmlType::F32, {256, 1}, f32.data(), 256 * 4);
  const std::vector<uint8_t> bytes = w.to_bytes();
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "mixed.gguf");
  const model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
  EXPECT_EQ(model::plan_placement_on(gpu, f, -1, 16, 1, gguf::GgmlType::F16).placement.n_offload, 1);
  EXPECT_EQ(model::plan_placement_on(gpu, f, 3, 16, 1, gguf::GgmlType::F16).placement.n_offload, 1);
}

struct EnvGuard {
  std::vector<std::string> names;
  ~EnvGuard() {
    for (const auto& n : names) unsetenv(n.c_str());
  }
  void set(const std::string& n, const std::string& v) {
    setenv(n.c_str(), v.c_str(), 1);
    names.push_back(n);
  }
};

std::vector<int32_t> reference_ids() {
  std::ifstream in(kDir + "/stories260K.greedy.txt");
  std::string line;
  bool b = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) b = line.rfind("## B.", 0) == 0;
    if (b && line.rfind("output_ids:", 0) == 0) {
      std::istringstream ss(line.substr(11));
      std::vector<int32_t> ids;
      int32_t id;
      while (ss >> id) ids.push_back(id);
      return ids;
    }
  }
  return {};
}

// A quantized cache goes to the GPU as it is (no fallback to f16): the layers on the device keep
// q8_0 caches, as they do on the CPU.
TEST(Placement, AQuantizedCacheStaysQuantizedOnTheGpu) {
  const vulkan::DeviceInfo* info = vulkan::testing::test_device_info();
  if (info == nullptr) GTEST_SKIP() << "no usable Vulkan device";
  EnvGuard env;
  env.set("HEARTH_VULKAN_DEVICE", std::to_string(info->index));
  engine::LoadOptions o;
  o.num_thread = 1;
  o.num_ctx = 128;
  o.kv_cache_type = "q8_0";
  auto r = engine::Runner::load(kDir + "/qwen3-tiny-q8_0.gguf", o);
  EXPECT_EQ(r->model().layer_backends().back(), "vulkan:" + std::to_string(info->index));
  EXPECT_EQ(r->kv_cache_type(), gguf::GgmlType::Q8_0);
  o.num_gpu = 0;  // and on the CPU
  EXPECT_EQ(engine::Runner::load(kDir + "/qwen3-tiny-q8_0.gguf", o)->kv_cache_type(), gguf::GgmlType::Q8_0);
}

TEST(Placement, AModelLargerThanTheBudgetIsSplitNotRefused) {
  const vulkan::DeviceInfo* info = vulkan::testing::test_device_info();
  if (info == nullptr) GTEST_SKIP() << "no usable Vulkan device";
  const int dev = info->index;
  const uint64_t vram = info->vram_bytes;
  const gguf::File f = gguf::File::open(kDir + "/stories260K.gguf");
  const Sizes s = sizes(f, 5);
  const uint64_t kv = 128 * 4 * 16 * 4;  // n_ctx 128 (its trained context), F32 cache
  const uint64_t fits_two = (uint64_t{512} << 20) + s.head + s.layer[4] + s.layer[3] + 2 * kv + 100;
  EnvGuard env;
  env.set("HEARTH_VULKAN_DEVICE", std::to_string(dev));
  env.set("HEARTH_GPU_OVERHEAD", std::to_string(vram / 10 * 9 - fits_two));
  engine::LoadOptions o;
  o.num_thread = 1;
  o.num_ctx = 128;
  o.kv_cache_type = "f32";
  auto r = engine::Runner::load(kDir + "/stories260K.gguf", o);
  const auto backends = r->model().layer_backends();
  EXPECT_EQ(backends, (std::vector<std::string>{"cpu", "cpu", "cpu", "vulkan:" + std::to_string(dev),
                                                "vulkan:" + std::to_string(dev), "vulkan:" + std::to_string(dev)}));
  EXPECT_GT(r->device_bytes(), 0u);
  EXPECT_NE(r->processor().find("Vulkan"), std::string::npos);
  engine::CompletionRequest req;
  req.prompt = {1};
  req.sampling.temperature = 0.0f;
  req.num_predict = 60;
  const auto res = r->complete(req);
  const auto want = reference_ids();
  ASSERT_GE(want.size(), 61u);
  EXPECT_EQ(std::vector<int32_t>(res.context.begin() + 1, res.context.end()),
            std::vector<int32_t>(want.begin(), want.begin() + 60));
  // num_gpu 0 keeps it on the CPU whatever the GPU.
  o.num_gpu = 0;
  EXPECT_EQ(engine::Runner::load(kDir + "/stories260K.gguf", o)->device_bytes(), 0u);
}

}  // namespace
}  // namespace hearth
