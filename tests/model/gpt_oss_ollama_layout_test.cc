// Ollama's own gpt-oss files (general.architecture "gptoss": keys gptoss.* without
// expert_feed_forward_length and rope.scaling.type, tensors attn_out, attn_sinks and ffn_norm,
// and in files converted from OpenAI's checkpoint before October 2025 a fused attn_qkv and an
// interleaved ffn_gate_up_exps; in those of August 2025 also MXFP4 as type 4 in OpenAI's code
// order) load and give the same logits as the llama.cpp-layout file of the same weights.
// random-gguf --ollama-layout rewrites the same bytes in Ollama's layout
// (tools/random_gguf_ollama.h), and the loader binds the same bytes back (a gathered copy for the
// interleaved stack, a reordered one for type 4), so the same kernels see the same values: the
// logits must be equal exactly.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "util/thread_pool.h"

namespace hearth::model {
namespace {

const std::string kShape =
    " --arch gpt-oss --n-embd 192 --n-layer 3 --n-head 4 --n-head-kv 2 --head-dim 64 --n-ff 96"
    " --n-expert 4 --n-expert-used 2 --n-ctx 512 --window 4 --rope-base 150000 --std 0.08"
    " --expert-std 0.5 --seed 7";

std::string write(const std::string& args, const std::string& name) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("hearth_oss_layout_" + name + ".gguf")).string();
  const std::string cmd = std::string(HEARTH_BINARY_DIR) + "/tools/random-gguf --vocab-from " +
                          HEARTH_TESTDATA_DIR + "/stories260K.gguf" + kShape + " " + args + " -o " +
                          path + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return path;
}

// The logits of every row of a 6-token prompt, then of 3 decode steps.
std::vector<float> logits_of(const std::string& path) {
  std::unique_ptr<Model> m = load_model(gguf::File::open(path), {"cpu", "", 0});
  const int64_t V = m->n_vocab();
  KvCache cache = m->make_cache(64, 1, gguf::GgmlType::F16);
  const std::vector<int32_t> tokens = {1, 438, 113, 346, 318, 115, 265, 263, 260};
  std::vector<float> all, row(static_cast<size_t>(6 * V));
  Batch b;
  for (int i = 0; i < 6; ++i) b.add(tokens[i], i, 0, true);
  m->forward(b, cache, row.data());
  all.insert(all.end(), row.begin(), row.end());
  for (int i = 6; i < 9; ++i) {
    b.clear();
    b.add(tokens[i], i, 0, true);
    m->forward(b, cache, row.data());
    all.insert(all.end(), row.begin(), row.begin() + V);
  }
  return all;
}

TEST(GptOssOllamaLayout, OllamaFilesGiveTheLlamaCppLayoutsLogits) {
  global_thread_pool(1);
  for (const char* type : {"f32", "mxfp4"}) {
    const std::string t = type;
    const std::string llama_cpp = write("--type " + t, t);
    const std::vector<float> want = logits_of(llama_cpp);
    for (const char* layout : {"split", "fused", "openai-mxfp4"}) {
      const std::string l = layout;
      if (l == "openai-mxfp4" && t != "mxfp4") continue;
      const std::string ollama = write("--type " + t + " --ollama-layout " + l, t + "_" + l);
      {
        const gguf::File f = gguf::File::open(ollama);
        EXPECT_EQ(f.get_string("general.architecture"), "gptoss");
        EXPECT_EQ(f.find("gptoss.expert_feed_forward_length"), nullptr);
        EXPECT_EQ(f.find("gptoss.rope.scaling.type"), nullptr);
        EXPECT_NE(f.find("gptoss.rope.scaling.factor"), nullptr);
        EXPECT_NE(f.find_tensor("blk.2.attn_out.bias"), nullptr);
        EXPECT_NE(f.find_tensor("blk.2.attn_sinks"), nullptr);
        EXPECT_NE(f.find_tensor("blk.2.ffn_norm.weight"), nullptr);
        const bool fused = l != "split";
        EXPECT_EQ(f.find_tensor("blk.1.attn_qkv.bias") != nullptr, fused);
        EXPECT_EQ(f.find_tensor("blk.1.attn_q.weight") == nullptr, fused);
        const gguf::TensorInfo* gate_up = f.find_tensor("blk.1.ffn_gate_up_exps.weight");
        ASSERT_EQ(gate_up != nullptr, fused);
        if (fused) {
          EXPECT_EQ(gate_up->ne[1], 2 * 96);
          const gguf::GgmlType want = t == "f32"                ? gguf::GgmlType::F32
                                      : l == "openai-mxfp4" ? static_cast<gguf::GgmlType>(4)
                                                            : gguf::GgmlType::MXFP4;
          EXPECT_EQ(gate_up->type, want);
          EXPECT_EQ(f.tensor("blk.1.ffn_down_exps.weight").type, want);
          EXPECT_EQ(f.find_tensor("blk.1.ffn_gate_exps.weight"), nullptr);
        }
      }
      const std::vector<float> got = logits_of(ollama);
      ASSERT_EQ(got.size(), want.size());
      size_t differ = 0;
      for (size_t i = 0; i < got.size(); ++i) differ += got[i] != want[i] ? 1 : 0;
      EXPECT_EQ(differ, 0u) << t << " " << l << ": logits differing from the llama.cpp layout's";
      std::filesystem::remove(ollama);
    }
    std::filesystem::remove(llama_cpp);
  }
}

}  // namespace
}  // namespace hearth::model
