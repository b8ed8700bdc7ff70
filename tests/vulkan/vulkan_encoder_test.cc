// Encoders (bert, nomic-bert) on the Vulkan backend (lavapipe here and in CI): tiny random
// encoders written by tests/model's fixture writer give the same hidden states on the device as
// on the CPU backends, all layers on the device or only the last (as num_gpu offloads), three
// sequences of different lengths in one batch, F32 and F16 caches; Runner::embed pools the same
// embeddings for a batch of inputs of different lengths; the default placement offloads encoder
// layers by Ollama's num_gpu rules; what the shaders cannot run is a clear error.
//
// Tolerance (relative L2 error of a hidden-state row; rows are LayerNorm outputs, O(1)): the
// shaders and the scalar CPU backend ("cpu-ref") compute the same float operations on the same
// dequantized weights and differ only in summation order (matmul, attention, LayerNorm sums of
// at most a few hundred terms, ~1e-7 relative each, through 2 layers): with an F32 cache
// measured <= 4e-7 for every weight type, bound 1e-5. An F16 cache rounds keys and values that
// differ by those ~1e-7 to 11 bits, and the two sides may round an element apart (2^-11 = 4.9e-4
// relative on that element): measured up to 6e-5, bound 5e-4. Against the fast CPU backend only
// for F32 weights, bound 1e-4 as in tests/model (for quantized weights it rounds activations to
// 8 bits first, see vulkan_model_test.cc). A wrong norm, a causal mask left in, or rows of one
// sequence attending to another give O(1) errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/runner.h"
#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/model.h"
#include "model/tiny_encoder.h"
#include "model/tiny_model.h"
#include "test_device.h"
#include "util/error.h"

namespace hearth {
namespace {

using gguf::GgmlType;
using model::testing::RefWeights;
using model::testing::TinyEncoderSpec;
using vulkan::testing::test_device;


TinyEncoderSpec spec_of(const std::string& arch, GgmlType wt) {
  TinyEncoderSpec s;
  s.arch = arch;
  s.weight_type = wt;
  s.embd_type = wt;
  return s;
}

// Sequences of 9, 4 and 1 tokens, rows interleaved in one batch.
struct Input {
  model::Batch batch;
  std::vector<int32_t> toks[3];
};
Input three_sequences(int64_t n_vocab) {
  Input in;
  const int len[3] = {9, 4, 1};
  for (int i = 0; i < len[0]; ++i) {
    for (int s = 0; s < 3; ++s) {
      if (i >= len[s]) continue;
      in.toks[s].push_back(static_cast<int32_t>((i * 37 + s * 11 + 5) % n_vocab));
      in.batch.add(in.toks[s].back(), i, s, true);
    }
  }
  return in;
}

std::vector<float> hidden_states(const std::vector<uint8_t>& bytes, const model::Placement& p,
                                 const model::Batch& b, GgmlType kv) {
  std::unique_ptr<model::Model> m =
      model::load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "enc.gguf"), p);
  model::KvCache cache = m->make_cache(10, 3, kv);
  std::vector<float> h(static_cast<size_t>(b.size() * m->hparams().n_embd));
  m->forward_hidden(b, cache, h.data());
  return h;
}

// The worst relative L2 error of `got`'s rows against `want`'s.
double worst_row_error(const std::vector<float>& got, const std::vector<float>& want, int64_t n_embd) {
  double worst = 0.0;
  for (size_t r = 0; r * static_cast<size_t>(n_embd) < want.size(); ++r) {
    const float* w = want.data() + r * static_cast<size_t>(n_embd);
    const std::vector<double> row(w, w + n_embd);
    worst = std::max(worst, model::testing::rel_error(got.data() + r * static_cast<size_t>(n_embd), row));
  }
  return worst;
}

TEST(VulkanEncoder, HiddenStatesEqualTheCpuBackends) {
  NEED_VULKAN();
  struct Case {
    std::string name;
    TinyEncoderSpec spec;
  };
  std::vector<Case> cases;
  for (const char* arch : {"bert", "nomic-bert"}) {
    for (GgmlType wt : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
      cases.push_back({std::string(arch) + " " + gguf::type_name(wt), spec_of(arch, wt)});
    }
    // Odd widths: 3 heads of 24, an FFN of 100 (no multiple of the shaders' 64 or 32).
    TinyEncoderSpec odd = spec_of(arch, GgmlType::F32);
    odd.n_embd = 72;
    odd.n_head = 3;
    odd.n_ff = 100;
    cases.push_back({std::string(arch) + " odd F32", odd});
  }
  for (const Case& c : cases) {
    RefWeights weights;
    const std::vector<uint8_t> bytes = model::testing::write_tiny_encoder(c.spec, &weights);
    const Input in = three_sequences(c.spec.n_vocab);
    const int64_t E = c.spec.n_embd;
    for (GgmlType kv : {GgmlType::F32, GgmlType::F16}) {
      const std::string what = c.name + ", " + gguf::type_name(kv) + " cache";
      const std::vector<float> ref = hidden_states(bytes, {"cpu-ref", "", 0}, in.batch, kv);
      const std::vector<float> all = hidden_states(bytes, {vk, "", 0}, in.batch, kv);
      const std::vector<float> last = hidden_states(bytes, {"cpu-ref", vk, 1}, in.batch, kv);
      const double e_all = worst_row_error(all, ref, E), e_last = worst_row_error(last, ref, E);
      const double bound = kv == GgmlType::F16 ? 5e-4 : 1e-5;
      EXPECT_LT(e_all, bound) << what << ", all layers on " << vk;
      EXPECT_LT(e_last, bound) << what << ", the last layer on " << vk;
      if (c.spec.weight_type == GgmlType::F32) {
        const std::vector<float> cpu = hidden_states(bytes, {"cpu", vk, 1}, in.batch, kv);
        EXPECT_LT(worst_row_error(cpu, ref, E), 1e-4) << what << ", fast CPU + " << vk;
      }
      std::printf("[ %s ] worst relative row error vs cpu-ref: all on GPU %.3g, last layer %.3g\n",
                  what.c_str(), e_all, e_last);
    }
    // And the device's rows against the independent double-precision reference (F32 weights: the
    // reference sees the same values).
    if (c.spec.weight_type != GgmlType::F32) continue;
    const std::vector<float> all = hidden_states(bytes, {vk, "", 0}, in.batch, GgmlType::F32);
    for (int64_t r = 0; r < in.batch.size(); ++r) {
      const int s = in.batch.seq[static_cast<size_t>(r)];
      const auto want = model::testing::ref_encode(c.spec, weights, in.toks[s]);
      EXPECT_LT(model::testing::rel_error(all.data() + r * E, want[static_cast<size_t>(in.batch.pos[static_cast<size_t>(r)])]), 1e-4)
          << c.name << " row " << r;
    }
  }
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/hearth-vk-encoder-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// What /api/embed computes: pooled embeddings of many inputs, packed into groups whose cache
// holds at most num_batch positions (48 here: groups of 5 + 17, 1 + 3 + 9, and 40 tokens).
TEST(VulkanEncoder, EmbedManyInputsOfDifferentLengths) {
  NEED_VULKAN();
  TempDir dir;
  for (auto [arch, pooling] : {std::pair{"bert", 1u}, std::pair{"nomic-bert", 2u}}) {
    TinyEncoderSpec spec = spec_of(arch, GgmlType::Q8_0);
    spec.pooling = pooling;
    RefWeights weights;
    const std::string path = write_file(dir.path + "/" + arch + ".gguf", model::testing::write_tiny_encoder(spec, &weights, true));
    std::vector<std::vector<int32_t>> inputs;
    for (int len : {5, 17, 1, 3, 9, 40}) {
      std::vector<int32_t> in = {2};
      for (int i = 1; i + 1 < len; ++i) in.push_back(static_cast<int32_t>(4 + (i * 13 + len) % 70));
      if (len > 1) in.push_back(3);
      inputs.push_back(in);
    }
    auto embed = [&](const model::Placement& p) {
      engine::LoadOptions o;
      o.num_ctx = 64;
      o.num_thread = 2;
      o.num_batch = 48;
      o.placement = p;
      auto r = engine::Runner::load(path, o);
      return r->embed(inputs, nullptr).vectors;
    };
    const auto want = embed({"cpu-ref", "", 0});
    const auto got = embed({vk, "", 0});
    ASSERT_EQ(got.size(), inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::vector<double> w(want[i].begin(), want[i].end());
      EXPECT_LT(model::testing::rel_error(got[i].data(), w), 1e-4) << arch << " input " << i << " of "
                                                                   << inputs[i].size() << " tokens";
    }
  }
}

// Ollama's num_gpu rules, as for decoders: -1 as many layers as fit, N the last N, 0 none; the
// embeddings and their tables go to the GPU only with every layer (they are the first layer's).
TEST(VulkanEncoder, DefaultPlacementOffloadsItsLayers) {
  for (const char* arch : {"bert", "nomic-bert"}) {
    TinyEncoderSpec spec = spec_of(arch, GgmlType::F32);
    spec.n_layer = 3;
    RefWeights weights;
    const std::vector<uint8_t> bytes = model::testing::write_tiny_encoder(spec, &weights);
    const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "enc.gguf");
    uint64_t all = 0, layers = 0;
    for (const auto& t : f.tensors()) {
      all += t.n_bytes;
      if (t.name.rfind("blk.", 0) == 0) layers += t.n_bytes;
    }
    const uint64_t kv = 3 * model::kv_cache_bytes_per_layer(f, 64, 1, GgmlType::F16);
    const model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
    auto plan = [&](int num_gpu) { return model::plan_placement_on(gpu, f, num_gpu, 64, 1, GgmlType::F16); };
    EXPECT_EQ(plan(-1).placement.n_offload, 3) << arch;
    EXPECT_EQ(plan(-1).placement.offload_backend, "vulkan:9") << arch;
    EXPECT_EQ(plan(-1).gpu_bytes, all + kv) << arch;  // no head counted: the whole file, once
    EXPECT_EQ(plan(99).placement.n_offload, 3) << arch;
    EXPECT_EQ(plan(2).placement.n_offload, 2) << arch;
    EXPECT_EQ(plan(2).gpu_bytes, layers / 3 * 2 + kv / 3 * 2) << arch;  // two layers, nothing else
    EXPECT_EQ(plan(0).placement.n_offload, 0) << arch;
  }
}

// Heads wider than the attention shader takes (576) stay on the CPU by default; placed on the
// device anyway, the first pass fails with the shader's limit named, and nothing crashes.
TEST(VulkanEncoder, HeadsTooWideForTheShaderAreAClearError) {
  TinyEncoderSpec spec = spec_of("bert", GgmlType::F32);
  spec.n_embd = 640;
  spec.n_head = 1;
  spec.n_ff = 32;
  spec.n_layer = 1;
  RefWeights weights;
  const std::vector<uint8_t> bytes = model::testing::write_tiny_encoder(spec, &weights);
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "wide.gguf");
  const model::Gpu gpu{"vulkan:9", "test GPU", "test", uint64_t{1} << 40};
  EXPECT_EQ(model::plan_placement_on(gpu, f, -1, 64, 1, GgmlType::F16).placement.n_offload, 0);
  EXPECT_EQ(model::plan_placement_on(gpu, f, 99, 64, 1, GgmlType::F16).placement.n_offload, 0);

  NEED_VULKAN();
  model::Batch b;
  b.add(5, 0, 0, true);
  b.add(6, 1, 0, true);
  try {
    hidden_states(bytes, {vk, "", 0}, b, GgmlType::F32);
    FAIL() << "a 640-wide head ran on the attention shader";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most 576"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hearth
