// Architecture "gpt-oss": OpenAI's gpt-oss-20b and -120b (llama.cpp's LLM_ARCH_OPENAI_MOE).
// Per layer:
//   attention: q/k/v with biases, NeoX RoPE with YaRN (rope.scaling.*, as the file says),
//              attention sinks (attn_sinks: a learned logit per head in the softmax denominator),
//              output projection with bias; q.k scaled by 1/sqrt(rope dims). Layers alternate a
//              sliding window (attention.sliding_window, 128) and the whole context: layer il is
//              windowed when il % P < P - 1 with P = attention.sliding_window_pattern (default 2,
//              so the even layers; 0: all), llama.cpp's rule; windowed layers may have their own RoPE
//              base (rope.freq_base_swa).
//   FFN:       the pre-FFN norm is named post_attention_norm; a mixture of expert_count experts of
//              width expert_feed_forward_length: the router (with bias) picks the
//              expert_used_count largest logits and weights them by a softmax over those logits
//              only; each expert's gate/up/down have biases; the activation is the clamped
//              SwiGLU of gpt-oss (gate <= 7, up in [-7, 7], gate * sigmoid(1.702 gate) * (up + 1)).
// Output norm and an untied output matrix. Every gpt-oss.* key is honoured, or the file is
// refused naming it. The CPU and Vulkan backends run it alike (src/vulkan has shaders for the
// sinks, the router, the clamped SwiGLU, the expert biases and MXFP4).
//
// Ollama's own files (general.architecture "gptoss", keys gptoss.*; ollama/ollama's
// convert/convert_gptoss.go, model/models/gptoss/model.go and llama/compat) differ from
// llama.cpp's in: no expert_feed_forward_length (feed_forward_length is the experts' width), no
// rope.scaling.type (Ollama always applies YaRN with rope.scaling.factor), and tensor names:
// attn_out for attn_output, attn_sinks for attn_sinks.weight, ffn_norm for post_attention_norm;
// files converted from OpenAI's original checkpoint fuse q/k/v into attn_qkv ([q; k; v] rows and
// bias), and those converted before October 2025 fuse the experts' gate and up into
// ffn_gate_up_exps with their rows (and bias values) alternating. The names and fusions are taken
// from what layer 0 of the file has; newer Ollama files use llama.cpp's names.

#include <cmath>
#include <set>
#include <string>

#include "model/arch_helpers.h"
#include "model/architectures.h"
#include "util/error.h"

namespace hearth::model {

namespace {

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "context_length", "embedding_length", "block_count", "feed_forward_length", "vocab_size",
      "attention.head_count", "attention.head_count_kv", "attention.key_length",
      "attention.value_length", "attention.layer_norm_rms_epsilon", "attention.sliding_window",
      "attention.sliding_window_pattern", "rope.dimension_count", "rope.freq_base",
      "rope.freq_base_swa", "rope.scaling.type", "rope.scaling.factor",
      "rope.scaling.original_context_length", "rope.scaling.attn_factor", "expert_count",
      "expert_used_count", "expert_feed_forward_length"};
  return keys;
}

// The tensor names (under blk.N.) and fusions of a file: llama.cpp's, or Ollama's where its layer
// 0 has them.
struct TensorLayout {
  const char* out = "attn_output";
  const char* sinks = "attn_sinks.weight";
  const char* ffn_norm = "post_attention_norm";
  QkvWeights qkv = QkvWeights::separate;
  GateUpWeights gate_up = GateUpWeights::separate;
};

TensorLayout ollama_layout(const gguf::File& file) {
  auto has = [&](const char* name) { return file.find_tensor(std::string("blk.0.") + name) != nullptr; };
  TensorLayout n;
  if (has("attn_out.weight")) n.out = "attn_out";
  if (has("attn_sinks")) n.sinks = "attn_sinks";
  if (has("ffn_norm.weight")) n.ffn_norm = "ffn_norm";
  if (has("attn_qkv.weight")) n.qkv = QkvWeights::fused_if_present;
  if (has("ffn_gate_up_exps.weight")) n.gate_up = GateUpWeights::interleaved;
  return n;
}

}  // namespace

ModelSpec gpt_oss_spec(const gguf::File& file, HParams& hp) {
  const bool ollama = file.get_string_or("general.architecture", "") == "gptoss";
  const std::string arch = ollama ? "gptoss" : "gpt-oss", a = arch + ".";
  refuse_unknown_keys(file, arch, known_keys());
  hp = read_hparams(file, arch, ops::RopeMode::neox);
  if (ollama && file.find(a + "rope.scaling.type") == nullptr && hp.rope_scaling == "linear") {
    // read_hparams took a factor without a type for linear scaling (llama.cpp's rule); Ollama's
    // gpt-oss applies YaRN with it.
    hp.rope_scaling = "yarn";
    hp.rope.ext_factor = 1.0f;
    hp.rope.n_ctx_orig = static_cast<int>(positive_i64_key(
        file, a + "rope.scaling.original_context_length", hp.n_ctx_train, kMaxPositionsKey));
  }
  if (hp.rope_scaling != "none" && hp.rope_scaling != "yarn") {
    bad_key(file, a + "rope.scaling.type", "= '" + hp.rope_scaling + "' is not supported for gpt-oss (none or yarn)");
  }
  // llama.cpp: YaRN's magnitude correction comes from the rope itself (1 + 0.1 ln factor on cos
  // and sin, ops/rope.cc), times rope.scaling.attn_factor when the file has one.
  hp.rope.attn_factor = positive_f32_key(file, a + "rope.scaling.attn_factor", 1.0f);
  const int64_t n_expert = file.get_i64(a + "expert_count");
  const int64_t n_used = file.get_i64(a + "expert_used_count");
  if (n_expert < 1 || n_expert > 1024 || n_used < 1 || n_used > n_expert) {
    bad_key(file, a + "expert_used_count", "= " + std::to_string(n_used) + " does not fit '" + a +
                                           "expert_count' = " + std::to_string(n_expert));
  }
  // Absent (Ollama's files): feed_forward_length, which holds the experts' width there.
  const int64_t n_ff_exp = positive_i64_key(file, a + "expert_feed_forward_length", hp.n_ff, int64_t{1} << 20);
  const std::string window_key = a + "attention.sliding_window";
  const int64_t window = positive_i64_key(file, window_key, file.get_i64(window_key), kMaxPositionsKey);
  const std::string pattern_key = a + "attention.sliding_window_pattern";
  const gguf::Value* pattern_value = file.find(pattern_key);
  if (pattern_value != nullptr && !gguf::is_integer_type(pattern_value->type())) {
    bad_key(file, pattern_key, "is not an integer period (per-layer arrays are not supported for gpt-oss)");
  }
  const int64_t period = file.get_i64_or(pattern_key, 2);  // 0: every layer windowed
  if (period < 0 || period > 4096) bad_key(file, pattern_key, "= " + std::to_string(period) + " is out of range (0..4096)");
  const float base_swa = positive_f32_key(file, a + "rope.freq_base_swa", hp.rope.freq_base);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp.rope.n_dims)));

  const TensorLayout names = ollama ? ollama_layout(file) : TensorLayout{};

  ModelSpec m = uniform_decoder_spec(hp);
  for (size_t il = 0; il < m.layers.size(); ++il) {
    LayerSpec& l = m.layers[il];
    l.ffn_norm = names.ffn_norm;
    AttentionSpec& at = l.attention;
    at.qkv_weights = names.qkv;
    at.out_name = names.out;
    at.sinks_name = names.sinks;
    at.qkv_bias = Bias::if_present;  // llama.cpp's rule; the released files have them
    at.out_bias = Bias::required;
    at.sinks = Sinks::per_head;
    at.scale = scale;
    if (period == 0 || static_cast<int64_t>(il) % period < period - 1) {
      at.window = window;
      at.rope.freq_base = base_swa;
    }
    FfnSpec& f = l.ffn;
    f.kind = FfnKind::moe;
    f.act = GateActivation::swiglu_oai;
    f.n_ff = n_ff_exp;
    f.n_expert = n_expert;
    f.gating.k = static_cast<int>(n_used);
    f.gating.func = ops::GatingFunc::softmax_of_chosen;
    f.expert_bias = Bias::required;
    f.gate_up = names.gate_up;
  }
  return m;
}

}  // namespace hearth::model
