// What the gemma2, gemma3, phi3 and gpt-oss spec files read from a file beyond what the reference forward
// pass exercises: Gemma's 27B query scale (chosen by layer count, as llama.cpp and Ollama do),
// Gemma 3's local/global layer pattern and per-layer RoPE, Phi-3's fused tensors and LongRoPE
// keys, and their keys' errors, which name the file and the key or tensor.

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/architectures.h"
#include "model/model.h"
#include "tiny_model.h"
#include "util/error.h"

namespace hearth::model {
namespace {

using testing::TinySpec;

TinySpec gemma(const std::string& arch, int64_t n_layer) {
  TinySpec s;
  s.arch = arch;
  s.n_layer = n_layer;
  s.head_dim = 32;  // != n_embd / n_head = 16
  s.tied = true;
  s.window = 5;
  s.rope_base = 1e6f;
  return s;
}

ModelSpec spec_of(const TinySpec& s, ArchitectureFn fn) {
  testing::RefWeights w;
  const std::vector<uint8_t> bytes = testing::write_tiny_model(s, &w);
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "t.gguf");
  HParams hp;
  return fn(f, hp);
}

std::string load_error(const TinySpec& spec) {
  testing::RefWeights w;
  const std::vector<uint8_t> bytes = testing::write_tiny_model(spec, &w);
  try {
    load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "bad.gguf"));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Families, GemmaQueryScaleIsHeadDimExceptAt27B) {
  const float by_head_dim = 1.0f / std::sqrt(32.0f), by_embd = 1.0f / std::sqrt(64.0f / 4.0f);
  EXPECT_FLOAT_EQ(spec_of(gemma("gemma2", 2), gemma2_spec).layers[0].attention.scale, by_head_dim);
  EXPECT_FLOAT_EQ(spec_of(gemma("gemma2", 46), gemma2_spec).layers[0].attention.scale, by_embd);
  EXPECT_FLOAT_EQ(spec_of(gemma("gemma3", 6), gemma3_spec).layers[0].attention.scale, by_head_dim);
  EXPECT_FLOAT_EQ(spec_of(gemma("gemma3", 62), gemma3_spec).layers[0].attention.scale, by_embd);
}

TEST(Families, Gemma2AlternatesWindowAndUsesDefaultCaps) {
  TinySpec s = gemma("gemma2", 4);
  s.edit = [](gguf::Writer& w) { w.remove("gemma2.attention.sliding_window"); };
  const ModelSpec m = spec_of(s, gemma2_spec);
  for (size_t il = 0; il < 4; ++il) {
    EXPECT_EQ(m.layers[il].attention.window, il % 2 == 0 ? 4096 : 0) << il;  // llama.cpp's default
    EXPECT_FLOAT_EQ(m.layers[il].attention.softcap, 50.0f);
    EXPECT_EQ(m.layers[il].norms, NormPlacement::pre_and_post);
    EXPECT_EQ(m.layers[il].ffn.act, GateActivation::gelu);
  }
  EXPECT_FLOAT_EQ(m.final_softcap, 30.0f);
  EXPECT_FLOAT_EQ(m.embd_scale, 8.0f);  // sqrt(64)
}

TEST(Families, Gemma3FiveLocalLayersToOneGlobal) {
  TinySpec s = gemma("gemma3", 12);
  s.rope_scale = 8.0f;
  const ModelSpec m = spec_of(s, gemma3_spec);
  for (size_t il = 0; il < 12; ++il) {
    const bool global = il == 5 || il == 11;
    const AttentionSpec& a = m.layers[il].attention;
    EXPECT_EQ(a.window, global ? 0 : 5) << il;
    EXPECT_FLOAT_EQ(a.rope.freq_base, global ? 1e6f : 1e4f) << il;
    EXPECT_FLOAT_EQ(a.rope.freq_scale, global ? 1.0f / 8.0f : 1.0f) << il;
    EXPECT_EQ(a.qk_norm, QkNorm::per_head_rms);
    EXPECT_FLOAT_EQ(a.softcap, 0.0f);
  }
  EXPECT_FLOAT_EQ(m.final_softcap, 0.0f);
}

TEST(Families, Gemma3OllamaRopeBaseKeysAreHonoured) {
  TinySpec s = gemma("gemma3", 6);
  s.edit = [](gguf::Writer& w) {
    w.remove("gemma3.rope.freq_base");
    w.set_f32("gemma3.rope.global.freq_base", 5e5f);
    w.set_f32("gemma3.rope.local.freq_base", 2e4f);
  };
  const ModelSpec m = spec_of(s, gemma3_spec);
  EXPECT_FLOAT_EQ(m.layers[0].attention.rope.freq_base, 2e4f);
  EXPECT_FLOAT_EQ(m.layers[5].attention.rope.freq_base, 5e5f);
}

TEST(Families, KeyErrorsNameFileAndKey) {
  struct Bad {
    TinySpec spec;
    std::string key;
  };
  std::vector<Bad> bad;
  TinySpec g2 = gemma("gemma2", 2);
  g2.edit = [](gguf::Writer& w) { w.set_f32("gemma2.attn_logit_softcapping", -1.0f); };
  bad.push_back({g2, "gemma2.attn_logit_softcapping"});
  g2.edit = [](gguf::Writer& w) { w.set_u32("gemma2.attention.sliding_window", 0); };
  bad.push_back({g2, "gemma2.attention.sliding_window"});
  TinySpec g3 = gemma("gemma3", 6);
  g3.edit = [](gguf::Writer& w) { w.remove("gemma3.attention.sliding_window"); };
  bad.push_back({g3, "gemma3.attention.sliding_window"});
  TinySpec p3;
  p3.arch = "phi3";
  p3.rope_orig_ctx = 24;
  p3.edit = [](gguf::Writer& w) { w.set_f32("phi3.rope.scaling.attn_factor", 0.0f); };
  bad.push_back({p3, "phi3.rope.scaling.attn_factor"});
  p3.skip_tensor = "rope_factors_long.weight";
  p3.edit = nullptr;
  bad.push_back({p3, "rope_factors_long.weight"});
  p3.skip_tensor = "blk.1.attn_qkv.weight";  // then attn_q/k/v are looked for, and are missing
  bad.push_back({p3, "blk.1.attn_q.weight"});
  for (const Bad& b : bad) {
    const std::string msg = load_error(b.spec);
    EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'" + b.key + "'"), std::string::npos) << b.key << ": " << msg;
  }
}

TEST(Families, Phi3FusedShapesAreChecked) {
  TinySpec s;
  s.arch = "phi3";
  s.n_ff = 48;  // ffn_up written with 96 rows, as a fused [gate; up] of 48 each
  s.edit = [](gguf::Writer& w) { w.set_u32("phi3.feed_forward_length", 96); };
  const std::string msg = load_error(s);
  EXPECT_NE(msg.find("'blk.0.ffn_up.weight' has shape"), std::string::npos) << msg;
}

TinySpec gpt_oss(int64_t n_layer) {
  TinySpec s;
  s.arch = "gpt-oss";
  s.n_layer = n_layer;
  s.n_expert = 4;
  s.n_expert_used = 2;
  s.window = 128;
  s.rope_base = 150000.0f;
  s.oss.yarn_factor = 32.0f;
  s.oss.yarn_orig_ctx = 4096;
  return s;
}

// llama.cpp's rule: layer il is windowed when il % P < P - 1 (P = sliding_window_pattern,
// default 2: the even layers of gpt-oss-20b and -120b), the windowed layers with
// rope.freq_base_swa when the file has it; every layer sinks, biases, YaRN as written, the
// gating that softmaxes the chosen logits and the clamped SwiGLU.
TEST(Families, GptOssWindowsEvenLayersAndReadsItsKeys) {
  const ModelSpec m = spec_of(gpt_oss(6), gpt_oss_spec);
  for (size_t il = 0; il < 6; ++il) {
    const AttentionSpec& a = m.layers[il].attention;
    EXPECT_EQ(a.window, il % 2 == 0 ? 128 : 0) << il;
    EXPECT_EQ(a.sinks, Sinks::per_head);
    EXPECT_EQ(a.out_bias, Bias::required);
    EXPECT_FLOAT_EQ(a.rope.freq_base, 150000.0f);
    EXPECT_FLOAT_EQ(a.rope.freq_scale, 1.0f / 32.0f);
    EXPECT_FLOAT_EQ(a.rope.ext_factor, 1.0f);
    EXPECT_FLOAT_EQ(a.rope.attn_factor, 1.0f);  // the rope's own 1 + 0.1 ln 32, as llama.cpp
    EXPECT_EQ(a.rope.n_ctx_orig, 4096);
    EXPECT_EQ(a.rope.mode, ops::RopeMode::neox);
    EXPECT_FLOAT_EQ(a.scale, 0.25f);  // 1 / sqrt(16 rotated dims)
    const FfnSpec& f = m.layers[il].ffn;
    EXPECT_EQ(f.kind, FfnKind::moe);
    EXPECT_EQ(f.act, GateActivation::swiglu_oai);
    EXPECT_EQ(f.gating.func, ops::GatingFunc::softmax_of_chosen);
    EXPECT_EQ(f.gating.k, 2);
    EXPECT_EQ(f.expert_bias, Bias::required);
    EXPECT_STREQ(m.layers[il].ffn_norm, "post_attention_norm");
  }

  TinySpec p3 = gpt_oss(6);
  p3.oss.swa_period = 3;
  p3.oss.rope_base_swa = 1000.0f;
  const ModelSpec m3 = spec_of(p3, gpt_oss_spec);
  for (size_t il = 0; il < 6; ++il) {
    const bool local = il % 3 != 2;
    EXPECT_EQ(m3.layers[il].attention.window, local ? 128 : 0) << il;
    EXPECT_FLOAT_EQ(m3.layers[il].attention.rope.freq_base, local ? 1000.0f : 150000.0f) << il;
  }
  TinySpec all = gpt_oss(3);
  all.edit = [](gguf::Writer& w) { w.set_u32("gpt-oss.attention.sliding_window_pattern", 0); };
  for (const LayerSpec& l : spec_of(all, gpt_oss_spec).layers) EXPECT_EQ(l.attention.window, 128);
}

TEST(Families, GptOssKeyErrorsNameTheKey) {
  struct Bad {
    std::function<void(gguf::Writer&)> edit;
    std::string key;
  };
  const std::vector<Bad> bad = {
      {[](gguf::Writer& w) { w.remove("gpt-oss.attention.sliding_window"); }, "gpt-oss.attention.sliding_window"},
      {[](gguf::Writer& w) { w.set_u32("gpt-oss.expert_used_count", 9); }, "gpt-oss.expert_used_count"},
      {[](gguf::Writer& w) { w.set_string("gpt-oss.rope.scaling.type", "linear"); }, "gpt-oss.rope.scaling.type"},
      {[](gguf::Writer& w) { w.set_u32("gpt-oss.leading_dense_block_count", 1); },
       "gpt-oss.leading_dense_block_count"},
  };
  for (const Bad& b : bad) {
    TinySpec s = gpt_oss(2);
    s.edit = b.edit;
    const std::string msg = load_error(s);
    EXPECT_NE(msg.find("'" + b.key + "'"), std::string::npos) << b.key << ": " << msg;
  }
}

}  // namespace
}  // namespace hearth::model
