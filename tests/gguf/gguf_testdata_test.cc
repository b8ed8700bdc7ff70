// Reads every .gguf in the shared testdata dir and checks facts its README states.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf_file.h"
#include "gguf_samples.h"

namespace hearth::gguf {
namespace {

namespace fs = std::filesystem;

std::string testdata(const std::string& name) {
  return (fs::path(HEARTH_TESTDATA_DIR) / name).string();
}

bool is_2d_matrix(const TensorInfo& t) { return t.n_dims >= 2; }

TEST(GgufTestdata, EveryFileParses) {
  size_t n = 0;
  for (const char* sub : {"", "tokenizer-vectors"}) {
    for (const auto& e : fs::directory_iterator(fs::path(HEARTH_TESTDATA_DIR) / sub)) {
      if (e.path().extension() != ".gguf") continue;
      SCOPED_TRACE(e.path().string());
      File f = File::open(e.path().string());
      EXPECT_EQ(f.version(), 3u);
      EXPECT_FALSE(f.get_string("general.architecture").empty());
      EXPECT_GT(f.get_array_size("tokenizer.ggml.tokens"), 0u);
      for (const TensorInfo& t : f.tensors()) {
        EXPECT_EQ(t.offset % f.alignment(), 0u) << t.name;
        EXPECT_LE(f.data_offset() + t.offset + t.n_bytes, f.file_size()) << t.name;
      }
      ++n;
    }
  }
  EXPECT_GE(n, 9u);
}

TEST(GgufTestdata, Stories260K) {
  File f = File::open(testdata("stories260K.gguf"));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_u32("llama.embedding_length"), 64u);
  EXPECT_EQ(f.get_u32("llama.block_count"), 5u);
  EXPECT_EQ(f.get_u32("llama.attention.head_count"), 8u);
  EXPECT_EQ(f.get_u32("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(f.get_u32("llama.feed_forward_length"), 172u);
  EXPECT_EQ(f.get_u32("llama.context_length"), 128u);
  std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(f.get_f32_array("tokenizer.ggml.scores").size(), 512u);
  EXPECT_EQ(f.get_i32_array("tokenizer.ggml.token_type").size(), 512u);
  // token_embd, output_norm, output + 9 per layer.
  EXPECT_EQ(f.tensors().size(), 3u + 5 * 9);
  for (const TensorInfo& t : f.tensors()) EXPECT_EQ(t.type, GgmlType::F32) << t.name;
  const TensorInfo& embd = f.tensor("token_embd.weight");
  EXPECT_EQ(embd.ne[0], 64);
  EXPECT_EQ(embd.ne[1], 512);
  EXPECT_EQ(f.tensor("blk.4.ffn_down.weight").ne[0], 172);
}

TEST(GgufTestdata, Qwen2TinyQ8) {
  File f = File::open(testdata("qwen2-tiny-q8_0.gguf"));
  EXPECT_EQ(f.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(f.get_u32("qwen2.embedding_length"), 64u);
  EXPECT_EQ(f.get_u32("qwen2.block_count"), 2u);
  EXPECT_EQ(f.get_u32("qwen2.attention.head_count"), 4u);
  EXPECT_EQ(f.get_u32("qwen2.attention.head_count_kv"), 2u);
  EXPECT_EQ(f.get_u32("qwen2.feed_forward_length"), 128u);
  EXPECT_EQ(f.get_u32("qwen2.context_length"), 2048u);
  EXPECT_FLOAT_EQ(f.get_f32("qwen2.rope.freq_base"), 1e4f);
  EXPECT_FLOAT_EQ(f.get_f32("qwen2.attention.layer_norm_rms_epsilon"), 1e-6f);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "deepseek-r1-qwen");
  EXPECT_EQ(f.get_array_size("tokenizer.ggml.tokens"), 151936u);
  EXPECT_EQ(f.get_array_size("tokenizer.ggml.merges"), 151387u);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.bos_token_id"), 151646u);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.eos_token_id"), 151643u);
  EXPECT_TRUE(f.get_bool("tokenizer.ggml.add_bos_token"));
  std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens[151648], "<think>");
  EXPECT_EQ(tokens[151649], "</think>");
  EXPECT_NE(f.find_tensor("blk.0.attn_q.bias"), nullptr);
  EXPECT_NE(f.find_tensor("output.weight"), nullptr);
  for (const TensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.type, is_2d_matrix(t) ? GgmlType::Q8_0 : GgmlType::F32) << t.name;
  }
}

TEST(GgufTestdata, Qwen2TinyQ4KM) {
  File f = File::open(testdata("qwen2-tiny-q4_k_m.gguf"));
  bool saw_q5_0 = false, saw_q8_0 = false;
  for (const TensorInfo& t : f.tensors()) {
    if (!is_2d_matrix(t)) continue;
    EXPECT_TRUE(t.type == GgmlType::Q5_0 || t.type == GgmlType::Q8_0) << t.name;
    saw_q5_0 |= t.type == GgmlType::Q5_0;
    saw_q8_0 |= t.type == GgmlType::Q8_0;
  }
  EXPECT_TRUE(saw_q5_0);
  EXPECT_TRUE(saw_q8_0);
}

TEST(GgufTestdata, Qwen2Tiny256Q4KM) {
  File f = File::open(testdata("qwen2-tiny256-q4_k_m.gguf"));
  EXPECT_EQ(f.get_u32("qwen2.embedding_length"), 256u);
  EXPECT_EQ(f.get_u32("qwen2.feed_forward_length"), 512u);
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);  // tied embeddings
  EXPECT_EQ(f.tensor("token_embd.weight").type, GgmlType::Q6_K);
  EXPECT_EQ(f.tensor("blk.1.attn_v.weight").type, GgmlType::Q6_K);
  EXPECT_EQ(f.tensor("blk.1.ffn_down.weight").type, GgmlType::Q6_K);
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight").type, GgmlType::Q4_K);
  EXPECT_EQ(f.tensor("blk.0.ffn_down.weight").type, GgmlType::Q4_K);
  EXPECT_EQ(f.tensor("blk.0.ffn_down.weight").ne[0], 512);
  EXPECT_EQ(f.tensor("blk.0.ffn_down.weight").n_bytes, 512u / 256 * 144 * 256);
}

TEST(GgufTestdata, Llama3Tiny) {
  File f = File::open(testdata("llama3-tiny-q8_0.gguf"));
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_FLOAT_EQ(f.get_f32("llama.rope.freq_base"), 5e5f);
  EXPECT_FLOAT_EQ(f.get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(f.get_array_size("tokenizer.ggml.tokens"), 128256u);
  EXPECT_EQ(f.get_array_size("tokenizer.ggml.merges"), 280147u);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.bos_token_id"), 128000u);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.eos_token_id"), 128009u);
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_eos_token"));
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens")[128009], "<|eot_id|>");
  EXPECT_EQ(f.get_i32_array("tokenizer.ggml.token_type")[128000], 3);  // CONTROL
  EXPECT_THAT(f.get_string("tokenizer.chat_template"), ::testing::HasSubstr("Assistant"));
}

TEST(GgufTestdata, Qwen3Tiny) {
  File f = File::open(testdata("qwen3-tiny-q8_0.gguf"));
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_u32("qwen3.attention.key_length"), 16u);
  EXPECT_EQ(f.get_u32("qwen3.attention.value_length"), 16u);
  EXPECT_EQ(f.get_u32("qwen3.context_length"), 4096u);
  EXPECT_FLOAT_EQ(f.get_f32("qwen3.rope.freq_base"), 1e6f);
  EXPECT_FALSE(f.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(f.find("tokenizer.ggml.add_eos_token"), nullptr);
  EXPECT_EQ(f.get_u32("tokenizer.ggml.eos_token_id"), 151645u);
  const TensorInfo& qn = f.tensor("blk.0.attn_q_norm.weight");
  EXPECT_EQ(qn.n_dims, 1);
  EXPECT_EQ(qn.ne[0], 16);
  EXPECT_EQ(f.tensor("blk.1.attn_k_norm.weight").ne[0], 16);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.bias"), nullptr);
}

TEST(GgufTestdata, Deepseek2Tiny) {
  File f = File::open(testdata("deepseek2-tiny-q8_0.gguf"));
  EXPECT_EQ(f.get_string("general.architecture"), "deepseek2");
  EXPECT_EQ(f.get_u32("deepseek2.block_count"), 3u);
  EXPECT_EQ(f.get_u32("deepseek2.attention.q_lora_rank"), 32u);
  EXPECT_EQ(f.get_u32("deepseek2.attention.kv_lora_rank"), 32u);
  EXPECT_EQ(f.get_u32("deepseek2.attention.key_length"), 24u);
  EXPECT_EQ(f.get_u32("deepseek2.attention.value_length"), 16u);
  EXPECT_EQ(f.get_u32("deepseek2.rope.dimension_count"), 8u);
  EXPECT_EQ(f.get_u32("deepseek2.expert_count"), 8u);
  EXPECT_EQ(f.get_u32("deepseek2.expert_used_count"), 2u);
  EXPECT_EQ(f.get_u32("deepseek2.leading_dense_block_count"), 1u);
  EXPECT_EQ(f.get_u32("deepseek2.expert_gating_func"), 2u);
  EXPECT_TRUE(f.get_bool("deepseek2.expert_weights_norm"));
  EXPECT_FLOAT_EQ(f.get_f32("deepseek2.expert_weights_scale"), 2.5f);
  EXPECT_EQ(f.get_u32("deepseek2.context_length"), 163840u);
  EXPECT_EQ(f.get_string("deepseek2.rope.scaling.type"), "yarn");
  EXPECT_FLOAT_EQ(f.get_f32("deepseek2.rope.scaling.factor"), 40.f);
  EXPECT_EQ(f.get_u32("deepseek2.rope.scaling.original_context_length"), 4096u);
  for (const TensorInfo& t : f.tensors()) {
    bool f32_matrix = t.name.find("attn_kv_b") != std::string::npos ||
                      t.name.find("ffn_gate_inp") != std::string::npos;
    EXPECT_EQ(t.type, is_2d_matrix(t) && !f32_matrix ? GgmlType::Q8_0 : GgmlType::F32) << t.name;
  }
  const TensorInfo& exps = f.tensor("blk.1.ffn_gate_exps.weight");
  EXPECT_EQ(exps.n_dims, 3);
  EXPECT_EQ(exps.ne[2], 8);
  EXPECT_EQ(exps.ne[1], 32);
  EXPECT_EQ(f.find_tensor("blk.0.ffn_gate_exps.weight"), nullptr);  // layer 0 is dense
}

TEST(GgufTestdata, VocabOnlyFiles) {
  File v3 = File::open(testdata("tokenizer-vectors/ggml-vocab-deepseek-v3.gguf"));
  EXPECT_TRUE(v3.tensors().empty());
  EXPECT_EQ(v3.get_string("general.architecture"), "deepseek2");
  EXPECT_EQ(v3.get_string("tokenizer.ggml.pre"), "deepseek-v3");
  EXPECT_EQ(v3.get_array_size("tokenizer.ggml.tokens"), 129280u);
  EXPECT_EQ(v3.get_string_array("tokenizer.ggml.tokens")[128803], "<｜User｜>");
  EXPECT_EQ(v3.find("tokenizer.chat_template"), nullptr);
  File spm = File::open(testdata("tokenizer-vectors/ggml-vocab-llama-spm.gguf"));
  EXPECT_TRUE(spm.tensors().empty());
  EXPECT_EQ(spm.get_string("tokenizer.ggml.model"), "llama");
}

// The committed fuzz seeds are exactly what the writer makes today (regenerate them with
// --gtest_also_run_disabled_tests --gtest_filter=*WriteFuzzSeeds after a format change).
TEST(GgufFuzzSeeds, CommittedSeedsMatchTheWriter) {
  fs::path dir = fs::path(HEARTH_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_gguf";
  size_t total = 0;
  for (const auto& [name, bytes] : testing::fuzz_seed_files()) {
    std::ifstream in(dir / name, std::ios::binary);
    ASSERT_TRUE(in) << (dir / name);
    std::vector<uint8_t> on_disk{std::istreambuf_iterator<char>(in),
                                 std::istreambuf_iterator<char>()};
    EXPECT_EQ(on_disk, bytes) << name;
    File f = File::from_memory(on_disk.data(), on_disk.size(), name);
    total += on_disk.size();
  }
  EXPECT_LT(total, 100u * 1024);
}

TEST(GgufFuzzSeeds, DISABLED_WriteFuzzSeeds) {
  fs::path dir = fs::path(HEARTH_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_gguf";
  fs::create_directories(dir);
  for (const auto& [name, bytes] : testing::fuzz_seed_files()) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

}  // namespace
}  // namespace hearth::gguf
