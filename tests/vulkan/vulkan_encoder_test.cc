// Encoders (bert, nomic-bert) have no Vulkan LayerNorm yet, and gpt-oss no shaders for its sinks,
// expert biases and SwiGLU, so they stay on the CPU: the default placement never offloads their
// layers, and an explicit GPU placement is refused with an error that says why (lavapipe stands
// in for the GPU).

#include <gtest/gtest.h>

#include <string>

#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/model.h"
#include "model/tiny_encoder.h"
#include "model/tiny_model.h"
#include "test_device.h"
#include "util/error.h"

namespace hearth {
namespace {

TEST(VulkanEncoder, StaysOnTheCpu) {
  model::testing::TinyEncoderSpec spec;
  spec.arch = "nomic-bert";
  model::testing::RefWeights weights;
  const std::vector<uint8_t> bytes = model::testing::write_tiny_encoder(spec, &weights);
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "enc.gguf");
  model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
  EXPECT_EQ(model::plan_placement_on(gpu, f, -1, 64, 1, gguf::GgmlType::F16).placement.n_offload, 0);
  EXPECT_EQ(model::plan_placement_on(gpu, f, 99, 64, 1, gguf::GgmlType::F16).placement.n_offload, 0);

  const int dev = vulkan::testing::test_device();
  if (dev < 0) GTEST_SKIP() << "no Vulkan device";
  const model::Placement on_gpu{"cpu", "vulkan:" + std::to_string(dev), 1};
  try {
    model::load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "enc.gguf"), on_gpu);
    FAIL() << "an encoder was placed on Vulkan";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("runs on the CPU only"), std::string::npos) << e.what();
  }
}

TEST(VulkanGptOss, StaysOnTheCpu) {
  model::testing::TinySpec spec;
  spec.arch = "gpt-oss";
  spec.n_expert = 4;
  spec.n_expert_used = 2;
  spec.window = 3;
  model::testing::RefWeights weights;
  const std::vector<uint8_t> bytes = model::testing::write_tiny_model(spec, &weights);
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "oss.gguf");
  model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
  EXPECT_EQ(model::plan_placement_on(gpu, f, -1, 64, 1, gguf::GgmlType::F16).placement.n_offload, 0);
  EXPECT_EQ(model::plan_placement_on(gpu, f, 99, 64, 1, gguf::GgmlType::F16).placement.n_offload, 0);

  const int dev = vulkan::testing::test_device();
  if (dev < 0) GTEST_SKIP() << "no Vulkan device";
  try {
    model::load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "oss.gguf"),
                      model::Placement{"cpu", "vulkan:" + std::to_string(dev), 1});
    FAIL() << "gpt-oss was placed on Vulkan";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("gpt-oss runs on the CPU only"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hearth
