// random-gguf writes what each architecture's loader binds, in the types real files have: the
// files of every architecture it knows load, and the tensors llama.cpp needs in F32 (an encoder's
// token_types) stay F32 after quantization.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gguf/gguf_file.h"
#include "model/model.h"

namespace hearth::model {
namespace {

std::string write(const std::string& args, const std::string& name) {
  const std::string path = (std::filesystem::temp_directory_path() / ("hearth_random_gguf_" + name + ".gguf")).string();
  const std::string cmd = std::string(HEARTH_BINARY_DIR) + "/tools/random-gguf " + args + " -o " + path + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return path;
}

TEST(RandomGguf, EncoderTokenTypesStayF32AndTheFileLoads) {
  const std::string path = write("--arch bert --n-embd 64 --n-layer 1 --n-head 2 --n-head-kv 2 --n-ff 128 --n-ctx 64 --type q8_0", "bert");
  {
    const gguf::File f = gguf::File::open(path);
    EXPECT_EQ(f.tensor("token_types.weight").type, gguf::GgmlType::F32);
    EXPECT_EQ(f.tensor("blk.0.layer_output_norm.weight").type, gguf::GgmlType::F32);
    EXPECT_NE(load_model(gguf::File::open(path), {"cpu", "", 0}), nullptr);
  }
  std::filesystem::remove(path);
}

// The bge-m3 kind: bert with an XLM-RoBERTa Unigram vocabulary (one token type, <s> text </s>),
// and --random-biases: biases random, LayerNorm weights rising from 1 to 1.5, all F32.
TEST(RandomGguf, UnigramEncoderWithRandomBiasesLoads) {
  const std::string path = write(std::string("--arch bert --n-embd 64 --n-layer 1 --n-head 2 --n-head-kv 2 "
                                             "--n-ff 128 --n-ctx 64 --random-biases --type q8_0 --unigram-vocab ") +
                                     HEARTH_SOURCE_DIR + "/tests/tokenizer/goldens/ugm_vocab.json",
                                 "bert_unigram");
  {
    const gguf::File f = gguf::File::open(path);
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "t5");
    EXPECT_EQ(f.get_u32("tokenizer.ggml.token_type_count"), 1u);
    EXPECT_EQ(f.tensor("token_types.weight").ne[1], 1);
    const gguf::TensorInfo& bias = f.tensor("blk.0.attn_q.bias");
    ASSERT_EQ(bias.type, gguf::GgmlType::F32);
    const float* b = reinterpret_cast<const float*>(bias.data);
    EXPECT_NE(b[0], 0.0f);
    EXPECT_NE(b[0], b[1]);
    const gguf::TensorInfo& gain = f.tensor("blk.0.layer_output_norm.weight");
    ASSERT_EQ(gain.type, gguf::GgmlType::F32);
    EXPECT_EQ(reinterpret_cast<const float*>(gain.data)[0], 1.0f);
    EXPECT_EQ(reinterpret_cast<const float*>(gain.data)[63], 1.5f);
    EXPECT_NE(load_model(gguf::File::open(path), {"cpu", "", 0}), nullptr);
  }
  std::filesystem::remove(path);
}

TEST(RandomGguf, DeepSeek2FileLoads) {
  const std::string path = write(std::string("--vocab-from ") + HEARTH_TESTDATA_DIR +
                                     "/stories260K.gguf --arch deepseek2 --n-embd 64 --n-layer 2 --n-head 2"
                                     " --n-head-kv 2 --head-dim 48 --kv-lora-rank 32 --rope-dim 16 --head-dim-v 32"
                                     " --n-ff 128 --n-ff-expert 32 --n-expert 4 --n-expert-used 2 --n-shared 1"
                                     " --sigmoid --q-lora-rank 32 --n-ctx 64 --type q8_0",
                                 "deepseek2");
  {
    std::unique_ptr<Model> m = load_model(gguf::File::open(path), {"cpu", "", 0});
    EXPECT_EQ(m->hparams().arch, "deepseek2");
    EXPECT_NE(m->file().find_tensor("blk.1.exp_probs_b.bias"), nullptr);
  }
  std::filesystem::remove(path);
}

// --split-kv-b: the newer conversions' per-head attn_k_b [n_head][L][nope] / attn_v_b
// [n_head][dv][L] in place of attn_kv_b, which the MLA block reads in both forms.
TEST(RandomGguf, DeepSeek2SplitKvBFileLoads) {
  const std::string path = write(std::string("--vocab-from ") + HEARTH_TESTDATA_DIR +
                                     "/stories260K.gguf --arch deepseek2 --n-embd 64 --n-layer 2 --n-head 2"
                                     " --n-head-kv 2 --head-dim 48 --kv-lora-rank 64 --rope-dim 16 --head-dim-v 32"
                                     " --n-ff 128 --n-ff-expert 32 --n-expert 4 --n-expert-used 2 --n-shared 1"
                                     " --split-kv-b --n-ctx 64 --type q8_0",
                                 "deepseek2_split");
  {
    const gguf::File f = gguf::File::open(path);
    EXPECT_EQ(f.find_tensor("blk.0.attn_kv_b.weight"), nullptr);
    const gguf::TensorInfo& kb = f.tensor("blk.1.attn_k_b.weight");
    const gguf::TensorInfo& vb = f.tensor("blk.1.attn_v_b.weight");
    EXPECT_EQ(kb.shape_string(), "[32, 64, 2]");  // nope (48 - 16), L, heads
    EXPECT_EQ(vb.shape_string(), "[64, 32, 2]");  // L, dv, heads
    EXPECT_NE(load_model(gguf::File::open(path), {"cpu", "", 0}), nullptr);
  }
  std::filesystem::remove(path);
}

// gpt-oss in its released format (--type mxfp4): expert stacks MXFP4, the other matrices Q8_0,
// biases and sinks F32; the file loads.
TEST(RandomGguf, GptOssMxfp4FileLoads) {
  const std::string path = write(std::string("--vocab-from ") + HEARTH_TESTDATA_DIR +
                                     "/stories260K.gguf --arch gpt-oss --n-embd 64 --n-layer 2 --n-head 4"
                                     " --n-head-kv 2 --head-dim 16 --n-ff 64 --n-expert 4 --n-expert-used 2"
                                     " --window 4 --n-ctx 256 --type mxfp4",
                                 "gpt-oss");
  {
    const gguf::File f = gguf::File::open(path);
    EXPECT_EQ(f.tensor("blk.0.ffn_gate_exps.weight").type, gguf::GgmlType::MXFP4);
    EXPECT_EQ(f.tensor("blk.1.ffn_down_exps.weight").type, gguf::GgmlType::MXFP4);
    EXPECT_EQ(f.tensor("blk.0.attn_q.weight").type, gguf::GgmlType::Q8_0);
    EXPECT_EQ(f.tensor("blk.0.ffn_down_exps.bias").type, gguf::GgmlType::F32);
    EXPECT_EQ(f.tensor("blk.1.attn_sinks.weight").type, gguf::GgmlType::F32);
    EXPECT_EQ(f.get_u32("general.file_type"), 38u);
    std::unique_ptr<Model> m = load_model(gguf::File::open(path), {"cpu", "", 0});
    EXPECT_EQ(m->hparams().arch, "gpt-oss");
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hearth::model
