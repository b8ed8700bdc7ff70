// Architecture "qwen3moe": Qwen3-30B-A3B, Qwen3-235B-A22B, Qwen3-Coder. Qwen3's attention (per-head
// q/k RMSNorm, NeoX RoPE, no biases) with a mixture-of-experts FFN in every layer: a softmax
// router over `expert_count` experts, the `expert_used_count` most probable ones, their
// probabilities renormalized to sum 1 (Qwen3-MoE's norm_topk_prob), each a SwiGLU FFN of width
// `expert_feed_forward_length`; no shared experts.

#include "model/architectures.h"
#include "util/error.h"

namespace hearth::model {

ModelSpec qwen3moe_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "qwen3moe", ops::RopeMode::neox);
  const int64_t n_expert = file.get_i64("qwen3moe.expert_count");
  const int64_t n_used = file.get_i64("qwen3moe.expert_used_count");
  if (n_expert < 1 || n_expert > 1024 || n_used < 1 || n_used > n_expert) {
    throw Error(ErrorCode::corrupt, file.path() + ": key 'qwen3moe.expert_used_count' = " +
                                        std::to_string(n_used) + " does not fit 'qwen3moe.expert_count' = " +
                                        std::to_string(n_expert));
  }
  ModelSpec m = uniform_decoder_spec(hp);
  for (LayerSpec& l : m.layers) {
    l.attention.qk_norm = QkNorm::per_head_rms;
    l.ffn.kind = FfnKind::moe;
    l.ffn.n_ff = file.get_i64_or("qwen3moe.expert_feed_forward_length", hp.n_ff);
    l.ffn.n_expert = n_expert;
    l.ffn.gating.k = static_cast<int>(n_used);
    l.ffn.gating.func = ops::GatingFunc::softmax;
    l.ffn.gating.normalize = true;
  }
  return m;
}

}  // namespace hearth::model
