// gpt-oss on the Vulkan backend (lavapipe here and in CI): attention sinks, a windowed layer
// in a ring, YaRN, the router's softmax over the chosen logits, expert biases, the clamped SwiGLU
// and MXFP4 experts all run on the device, all layers or only the last (as num_gpu offloads).
//
// The tiny fixtures of tests/model (write_tiny_model): a prompt of 7 rows then decode rows, fed
// the scalar CPU backend's ("cpu-ref") greedy choices; every row's logits within a bound of
// cpu-ref's, the same argmax at every step, and (F32 weights) within 1e-4 of the independent
// double-precision reference (tests/model's bound for F32 models). Bounds (relative L2 error of a
// logits row): the shaders and cpu-ref compute the same float operations on the same dequantized
// weights (MXFP4 and Q8_0 exactly so, no activation rounding on either side) and differ in
// summation order only: ~1e-6 per op, through 2-3 layers of these random models (whose logits are
// small differences of large terms); with an F32 cache measured <= 4.4e-6, bound 1e-4.
//
// And random-gguf's gpt-oss file of llamacpp_agreement_test.cc (heads of 64, 8 experts, a window
// of 4): its F32 file decodes on the device to llama.cpp's recorded greedy tokens; its MXFP4 file
// to cpu-ref's; and served by the Runner with small passes (num_batch 4: rings of 64 slots for the
// windowed layers), 130 tokens after a 20-token prompt (the rings wrap twice) equal cpu-ref's
// with whole-context caches.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/runner.h"
#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/llamacpp_gpt_oss.h"
#include "model/model.h"
#include "model/tiny_model.h"
#include "test_device.h"

namespace hearth {
namespace {

using gguf::GgmlType;
using model::testing::RefWeights;
using model::testing::TinySpec;
using model::testing::tiny_gpt_oss;


int32_t argmax(const float* v, int64_t n) { return static_cast<int32_t>(std::max_element(v, v + n) - v); }

TEST(VulkanGptOss, TinyModelsLogitsAndGreedyTokensEqualCpuRef) {
  NEED_VULKAN();
  struct Case {
    const char* name;
    TinySpec spec;
  };
  const Case cases[] = {{"f32", tiny_gpt_oss(GgmlType::F32, GgmlType::F32, false)},
                        {"period3 f32", tiny_gpt_oss(GgmlType::F32, GgmlType::F32, true)},
                        {"q8_0 + mxfp4 experts", tiny_gpt_oss(GgmlType::Q8_0, GgmlType::MXFP4, false)}};
  for (const Case& c : cases) {
    RefWeights weights;
    const std::vector<uint8_t> bytes = model::testing::write_tiny_model(c.spec, &weights);
    auto load = [&](const model::Placement& p) {
      return model::load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "oss.gguf"), p);
    };
    std::unique_ptr<model::Model> want_m = load({"cpu-ref", "", 0});
    std::unique_ptr<model::Model> got_m[2] = {load({vk, "", 0}), load({"cpu-ref", vk, 1})};
    const char* where[2] = {"all layers on the device", "the last layer on the device"};
    const int64_t V = want_m->n_vocab();
    model::KvCache want_cache = want_m->make_cache(32, 1, GgmlType::F32);
    model::KvCache got_cache[2] = {got_m[0]->make_cache(32, 1, GgmlType::F32), got_m[1]->make_cache(32, 1, GgmlType::F32)};
    model::testing::RefModel exact(c.spec, weights, 32);
    const bool exact_weights = c.spec.weight_type == GgmlType::F32;

    const int n_prompt = 7, n_steps = 12;
    model::Batch b;
    for (int i = 0; i < n_prompt; ++i) b.add((i * 37 + 5) % static_cast<int32_t>(V), i, 0, true);
    double worst = 0.0, worst_exact = 0.0;
    for (int step = 0; step < n_steps; ++step) {
      const int64_t rows = b.size();
      std::vector<float> want(static_cast<size_t>(rows * V)), got(want.size());
      want_m->forward(b, want_cache, want.data());
      for (int i = 0; i < 2; ++i) {
        got_m[i]->forward(b, got_cache[i], got.data());
        for (int64_t r = 0; r < rows; ++r) {
          const std::vector<double> w(want.begin() + r * V, want.begin() + (r + 1) * V);
          const double e = model::testing::rel_error(got.data() + r * V, w);
          worst = std::max(worst, e);
          EXPECT_LT(e, 1e-4) << c.name << ", " << where[i] << ", pass " << step << " row " << r;
          EXPECT_EQ(argmax(got.data() + r * V, V), argmax(want.data() + r * V, V))
              << c.name << ", " << where[i] << ", pass " << step << " row " << r;
        }
        if (!exact_weights || i > 0) continue;
        for (int64_t r = 0; r < rows; ++r) {
          const double e = model::testing::rel_error(got.data() + r * V, exact.step(b.token[static_cast<size_t>(r)]));
          worst_exact = std::max(worst_exact, e);
          EXPECT_LT(e, 1e-4) << c.name << " against the double reference, pass " << step << " row " << r;
        }
      }
      const int32_t next = argmax(want.data() + (rows - 1) * V, V);  // cpu-ref's greedy choice
      const int32_t pos = b.pos.back() + 1;
      b.clear();
      b.add(next, pos, 0, true);
    }
    std::printf("[ %s ] worst relative logits error vs cpu-ref %.3g", c.name, worst);
    if (exact_weights) std::printf(", vs the double reference %.3g", worst_exact);
    std::printf("\n");
  }
}

// The placement planner offloads gpt-oss like any decoder (it kept it on the CPU before the
// shaders existed): all layers, or the last N.
TEST(VulkanGptOss, DefaultPlacementOffloadsItsLayers) {
  TinySpec spec = tiny_gpt_oss(GgmlType::Q8_0, GgmlType::MXFP4, true);
  RefWeights weights;
  const std::vector<uint8_t> bytes = model::testing::write_tiny_model(spec, &weights);
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "oss.gguf");
  const model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
  EXPECT_EQ(model::plan_placement_on(gpu, f, -1, 64, 1, GgmlType::F16).placement.n_offload, 3);
  EXPECT_EQ(model::plan_placement_on(gpu, f, 2, 64, 1, GgmlType::F16).placement.n_offload, 2);
}

// One folder per process: ctest runs the tests of this file in parallel processes, which must not
// write the same file at once.
std::string write_random_gguf(const std::string& type) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("hearth_vulkan_gpt_oss_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / ("gpt-oss-" + type + ".gguf")).string();
  const std::string cmd = std::string(HEARTH_BINARY_DIR) + "/tools/random-gguf --vocab-from " +
                          HEARTH_TESTDATA_DIR + "/stories260K.gguf " + model::testing::kGptOssLlamaCppArgs +
                          " --type " + type + " -o " + path + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return path;
}

// Greedy tokens after kLlamaCppPrompt, as llamacpp_agreement_test.cc decodes (F16 cache of 512).
std::vector<int32_t> greedy(const std::string& path, const model::Placement& p, int n) {
  std::unique_ptr<model::Model> m = model::load_model(gguf::File::open(path), p);
  model::KvCache cache = m->make_cache(512, 1, GgmlType::F16);
  const std::vector<int32_t>& prompt = model::testing::kLlamaCppPrompt;
  model::Batch b;
  for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  std::vector<float> logits(static_cast<size_t>(m->n_vocab()));
  std::vector<int32_t> out;
  for (int32_t pos = static_cast<int32_t>(prompt.size()); static_cast<int>(out.size()) < n; ++pos) {
    m->forward(b, cache, logits.data());
    out.push_back(argmax(logits.data(), m->n_vocab()));
    b.clear();
    b.add(out.back(), pos, 0, true);
  }
  return out;
}

TEST(VulkanGptOss, RandomFileDecodesToLlamaCppsTokens) {
  NEED_VULKAN();
  const std::string f32 = write_random_gguf("f32");
  const std::vector<int32_t> first24(model::testing::kGptOssLlamaCppIds.begin(),
                                     model::testing::kGptOssLlamaCppIds.begin() + 24);
  EXPECT_EQ(greedy(f32, {vk, "", 0}, 24), first24) << "f32 on " << vk;
  std::filesystem::remove(f32);
  const std::string mxfp4 = write_random_gguf("mxfp4");
  const std::vector<int32_t> want = greedy(mxfp4, {"cpu-ref", "", 0}, 24);
  EXPECT_EQ(greedy(mxfp4, {vk, "", 0}, 24), want) << "mxfp4 on " << vk;
  EXPECT_EQ(greedy(mxfp4, {"cpu-ref", vk, 2}, 24), want) << "mxfp4, 2 of 3 layers on " << vk;
  std::filesystem::remove(mxfp4);
}

TEST(VulkanGptOss, RingsOfWindowedLayersGiveTheTokensOfWholeCaches) {
  NEED_VULKAN();
  const std::string path = write_random_gguf("mxfp4");
  std::vector<int32_t> prompt = {1};
  for (int i = 1; i < 20; ++i) prompt.push_back(3 + (i * 37) % 500);
  std::vector<int32_t> got[2];
  for (int i = 0; i < 2; ++i) {
    engine::LoadOptions o;
    o.num_thread = 2;
    o.num_ctx = 160;
    o.num_batch = i == 0 ? 4 : 512;
    o.placement = i == 0 ? model::Placement{vk, "", 0} : model::Placement{"cpu-ref", "", 0};
    auto r = engine::Runner::load(path, o);
    engine::CompletionRequest req;
    req.prompt = prompt;
    req.sampling.temperature = 0.0f;
    req.num_predict = 130;
    got[i] = r->complete(req).context;
  }
  EXPECT_EQ(got[0].size(), 150u);
  EXPECT_EQ(got[0], got[1]);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hearth
