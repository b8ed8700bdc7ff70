// Architecture "deepseek2": DeepSeek-V2, V2-Lite, Coder-V2, V3 and R1. Multi-head latent
// attention (mla_attention.cc) in every layer; the first `leading_dense_block_count` layers have a
// dense SwiGLU FFN, the rest a mixture of experts: `expert_count` routed experts of width
// `expert_feed_forward_length` (softmax gating for V2, sigmoid with the exp_probs_b selection bias
// for V3/R1; optionally limited to the best `expert_group_used_count` of `expert_group_count`
// groups), their weights optionally normalized (`expert_weights_norm`) and scaled
// (`expert_weights_scale`), plus `expert_shared_count` shared experts on every token.
//
// YaRN (V3/R1 extend 4k to 160k) as DeepSeek's reference does it: RoPE angles interpolated per
// dimension, the rotation itself not rescaled, and the attention scale multiplied by
// mscale^2 with mscale = 1 + yarn_log_multiplier * ln(factor).
//
// Every deepseek2.* key is honoured, or the file is refused naming the key.

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
      "attention.value_length", "attention.key_length_mla", "attention.value_length_mla",
      "attention.layer_norm_rms_epsilon", "attention.q_lora_rank", "attention.kv_lora_rank",
      "rope.dimension_count", "rope.freq_base", "rope.scaling.type", "rope.scaling.factor",
      "rope.scaling.original_context_length", "rope.scaling.yarn_log_multiplier",
      "leading_dense_block_count", "expert_feed_forward_length", "expert_count",
      "expert_used_count", "expert_shared_count", "expert_weights_scale", "expert_weights_norm",
      "expert_gating_func", "expert_group_count", "expert_group_used_count"};
  return keys;
}

}  // namespace

ModelSpec deepseek2_spec(const gguf::File& file, HParams& hp) {
  const std::string a = "deepseek2.";
  refuse_unknown_keys(file, "deepseek2", known_keys());
  hp = read_hparams(file, "deepseek2", ops::RopeMode::normal);
  // Files converted for absorbed MLA say key/value_length of the latent (kv_lora_rank + rope,
  // kv_lora_rank) and give the per-head sizes as *_mla.
  if (file.find(a + "attention.key_length_mla") != nullptr) {
    hp.head_dim_k = file.get_i64(a + "attention.key_length_mla");
    hp.head_dim_v = file.get_i64(a + "attention.value_length_mla");
  }
  const int64_t kv_lora = file.get_i64(a + "attention.kv_lora_rank");
  const int64_t q_lora = file.get_i64_or(a + "attention.q_lora_rank", 0);
  if (kv_lora <= 0 || kv_lora > 65536) bad_key(file, a + "attention.kv_lora_rank", "is out of range");
  if (q_lora < 0 || q_lora > 65536) bad_key(file, a + "attention.q_lora_rank", "is out of range");
  if (hp.rope.n_dims <= 0 || hp.rope.n_dims >= hp.head_dim_k || hp.head_dim_v <= 0) {
    bad_key(file, a + "rope.dimension_count", "leaves no non-rotated part of the key (key length " +
                                              std::to_string(hp.head_dim_k) + ")");
  }

  float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hp.head_dim_k)));
  if (hp.rope_scaling == "yarn") {
    const double factor = 1.0 / hp.rope.freq_scale;
    const double mscale = 1.0 + file.get_f32_or(a + "rope.scaling.yarn_log_multiplier", 0.0f) * std::log(factor);
    scale = static_cast<float>(mscale * mscale / std::sqrt(static_cast<double>(hp.head_dim_k)));
    hp.rope.attn_factor = static_cast<float>(1.0 / (1.0 + 0.1 * std::log(factor)));  // cancels rope's
  } else if (hp.rope_scaling != "none") {
    bad_key(file, a + "rope.scaling.type", "= '" + hp.rope_scaling + "' is not supported for deepseek2");
  }

  const int64_t n_dense = file.get_i64_or(a + "leading_dense_block_count", 0);
  if (n_dense < 0 || n_dense > hp.n_layer) bad_key(file, a + "leading_dense_block_count", "is out of range");
  ModelSpec m = uniform_decoder_spec(hp);
  if (n_dense < hp.n_layer) {
    const int64_t n_expert = file.get_i64(a + "expert_count");
    const int64_t n_used = file.get_i64(a + "expert_used_count");
    const int64_t n_shared = file.get_i64_or(a + "expert_shared_count", 0);
    const int64_t n_ff_exp = file.get_i64(a + "expert_feed_forward_length");
    const int64_t n_group = file.get_i64_or(a + "expert_group_count", 1);
    const int64_t n_group_used = file.get_i64_or(a + "expert_group_used_count", n_group);
    if (n_expert < 1 || n_expert > 1024 || n_used < 1 || n_used > n_expert) {
      bad_key(file, a + "expert_used_count", "does not fit expert_count");
    }
    if (n_shared < 0 || n_shared > 64 || n_ff_exp < 1 || n_ff_exp > (1 << 20)) {
      bad_key(file, a + "expert_shared_count", "or expert_feed_forward_length is out of range");
    }
    if (n_group < 1 || n_expert % n_group != 0 || n_group_used < 1 || n_group_used > n_group ||
        n_used > n_expert / n_group * n_group_used) {
      bad_key(file, a + "expert_group_used_count", "does not fit expert_count, expert_group_count and expert_used_count");
    }
    const int64_t func = file.get_i64_or(a + "expert_gating_func", 1);
    if (func != 1 && func != 2) bad_key(file, a + "expert_gating_func", "= " + std::to_string(func) + " (1 softmax, 2 sigmoid)");
    const float weights_scale = file.get_f32_or(a + "expert_weights_scale", 1.0f);
    if (!(weights_scale > 0.0f) || !std::isfinite(weights_scale)) bad_key(file, a + "expert_weights_scale", "must be positive");
    for (int64_t il = n_dense; il < hp.n_layer; ++il) {
      FfnSpec& f = m.layers[static_cast<size_t>(il)].ffn;
      f.kind = FfnKind::moe;
      f.n_ff = n_ff_exp;
      f.n_expert = n_expert;
      f.gating.k = static_cast<int>(n_used);
      f.gating.func = func == 2 ? ops::GatingFunc::sigmoid : ops::GatingFunc::softmax;
      f.gating.normalize = file.get_bool_or(a + "expert_weights_norm", false);
      f.gating.scale = weights_scale;
      f.gating.n_group = static_cast<int>(n_group);
      f.gating.n_group_used = static_cast<int>(n_group_used);
      f.selection_bias = file.find_tensor("blk." + std::to_string(il) + ".exp_probs_b.bias") != nullptr;
      f.n_ff_shared = n_shared * n_ff_exp;
    }
  }
  for (LayerSpec& l : m.layers) {
    l.attention.kind = AttentionKind::mla;
    l.attention.n_head_kv = l.attention.n_head;
    l.attention.q_lora_rank = q_lora;
    l.attention.kv_lora_rank = kv_lora;
    l.attention.scale = scale;
  }
  return m;
}

}  // namespace hearth::model
