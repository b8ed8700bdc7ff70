// A model file with a missing key, a missing tensor, a tensor of the wrong shape, an unknown
// architecture or inconsistent keys fails to load with an Error naming the file and the culprit.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "tiny_model.h"
#include "util/error.h"

namespace hearth::model {
namespace {

using testing::TinySpec;

// Loads the edited tiny model and returns the load error's message ("" if it loaded).
std::string load_error(const TinySpec& spec, ErrorCode* code = nullptr) {
  testing::RefWeights w;
  const std::vector<uint8_t> bytes = testing::write_tiny_model(spec, &w);
  try {
    load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "bad.gguf"));
  } catch (const Error& e) {
    if (code != nullptr) *code = e.code();
    return e.what();
  }
  return "";
}

TEST(LoadErrors, TheUneditedModelLoads) { EXPECT_EQ(load_error(TinySpec{}), ""); }

TEST(LoadErrors, MissingKeyNamesFileAndKey) {
  TinySpec s;
  s.edit = [](gguf::Writer& w) { w.remove("llama.block_count"); };
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("llama.block_count"), std::string::npos) << msg;
}

TEST(LoadErrors, MissingEpsilonKey) {
  TinySpec s;
  s.edit = [](gguf::Writer& w) { w.remove("llama.attention.layer_norm_rms_epsilon"); };
  EXPECT_NE(load_error(s).find("llama.attention.layer_norm_rms_epsilon"), std::string::npos);
}

TEST(LoadErrors, MissingTensorNamesIt) {
  TinySpec s;
  s.skip_tensor = "blk.1.ffn_down.weight";
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing tensor 'blk.1.ffn_down.weight'"), std::string::npos) << msg;
}

TEST(LoadErrors, MissingQwen2BiasNamesIt) {
  TinySpec s;
  s.arch = "qwen2";
  s.skip_tensor = "blk.0.attn_k.bias";
  EXPECT_NE(load_error(s).find("'blk.0.attn_k.bias'"), std::string::npos);
}

TEST(LoadErrors, WrongShapeNamesTensorAndShapes) {
  TinySpec s;  // n_ff 96 in the tensors, 128 in the key
  s.edit = [](gguf::Writer& w) { w.set_u32("llama.feed_forward_length", 128); };
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("blk.0.ffn_gate.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[64, 96]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[64, 128]"), std::string::npos) << msg;
}

TEST(LoadErrors, HeadCountsMustDivide) {
  TinySpec s;
  s.edit = [](gguf::Writer& w) { w.set_u32("llama.attention.head_count_kv", 3); };
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("llama.attention.head_count_kv"), std::string::npos) << msg;
}

TEST(LoadErrors, ZeroDimensionIsRejected) {
  TinySpec s;
  s.edit = [](gguf::Writer& w) { w.set_u32("llama.embedding_length", 0); };
  EXPECT_NE(load_error(s).find("llama.embedding_length"), std::string::npos);
}

TEST(LoadErrors, UnknownArchitecture) {
  TinySpec s;
  s.edit = [](gguf::Writer& w) { w.set_string("general.architecture", "mamba"); };
  ErrorCode code{};
  const std::string msg = load_error(s, &code);
  EXPECT_EQ(code, ErrorCode::unsupported);
  EXPECT_NE(msg.find("'mamba'"), std::string::npos) << msg;
}

TEST(LoadErrors, UnsupportedRopeScaling) {
  TinySpec s;
  s.edit = [](gguf::Writer& w) {
    w.set_string("llama.rope.scaling.type", "longrope");
    w.set_f32("llama.rope.scaling.factor", 4.0f);
  };
  EXPECT_NE(load_error(s).find("longrope"), std::string::npos);
}

// gpt-oss: every gpt-oss.* key is honoured or the file is refused naming it; its sinks and
// biases are required tensors; a per-layer window pattern (an array) is refused by name; and it
// loads split across the CPU backends (tests/vulkan runs it on the Vulkan backend).
TinySpec gpt_oss() {
  TinySpec s;
  s.arch = "gpt-oss";
  s.n_expert = 4;
  s.n_expert_used = 2;
  s.window = 3;
  return s;
}

TEST(LoadErrors, GptOssLoadsAndRefusesUnknownKeysByName) {
  EXPECT_EQ(load_error(gpt_oss()), "");
  TinySpec s = gpt_oss();
  s.edit = [](gguf::Writer& w) { w.set_f32("gpt-oss.expert_weights_scale", 2.0f); };
  ErrorCode code{};
  const std::string msg = load_error(s, &code);
  EXPECT_EQ(code, ErrorCode::unsupported);
  EXPECT_NE(msg.find("key 'gpt-oss.expert_weights_scale' is not supported"), std::string::npos) << msg;
}

TEST(LoadErrors, GptOssMissingSinksOrExpertBiasNamesThem) {
  for (const char* t : {"blk.1.attn_sinks.weight", "blk.0.ffn_down_exps.bias", "blk.0.ffn_gate_inp.bias",
                        "blk.1.attn_output.bias", "blk.0.post_attention_norm.weight"}) {
    TinySpec s = gpt_oss();
    s.skip_tensor = t;
    EXPECT_NE(load_error(s).find(std::string("missing tensor '") + t + "'"), std::string::npos) << t;
  }
}

TEST(LoadErrors, GptOssWindowPatternArrayIsRefusedByName) {
  TinySpec s = gpt_oss();
  s.edit = [](gguf::Writer& w) {
    w.set("gpt-oss.attention.sliding_window_pattern", gguf::Value::i32_array({1, 0}));
  };
  EXPECT_NE(load_error(s).find("gpt-oss.attention.sliding_window_pattern"), std::string::npos);
}

TEST(LoadErrors, GptOssSplitAcrossCpuBackendsLoads) {
  testing::RefWeights w;
  const std::vector<uint8_t> bytes = testing::write_tiny_model(gpt_oss(), &w);
  EXPECT_NO_THROW(load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "oss.gguf"), {"cpu", "cpu-ref", 1}));
}

}  // namespace
}  // namespace hearth::model
