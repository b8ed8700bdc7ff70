// Architecture "phi3": Phi-3 and Phi-3.5 mini/medium, Phi-4 and Phi-4-mini. q, k and v from one
// fused attn_qkv ([q; k; v] rows; separate attn_q/k/v if a file has those instead), SwiGLU FFN
// from one fused ffn_up of 2 * n_ff rows (gate first), NeoX RoPE over rope.dimension_count.
// LongRoPE (the 128k models): per-frequency divisors rope_factors_short.weight and
// rope_factors_long.weight; a context per sequence above rope.scaling.original_context_length
// takes the long ones (llama.cpp's rule), and cos/sin are multiplied by rope.scaling.attn_factor
// whichever table is used (the converters store sqrt(1 + ln(scale) / ln(orig_ctx)) there, scale =
// context_length / original_context_length). attention.sliding_window is read and checked but
// not applied: llama.cpp (and so Ollama) disable Phi-3's window because converters wrote wrong
// values for it (llama.cpp PR 13676), and Hearth answers as they do.

#include "model/arch_helpers.h"
#include "model/architectures.h"

namespace hearth::model {

ModelSpec phi3_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "phi3", ops::RopeMode::neox);
  ModelSpec m = uniform_decoder_spec(hp);
  const int64_t n_ctx_orig = positive_i64_key(file, "phi3.rope.scaling.original_context_length",
                                              hp.n_ctx_train, kMaxPositionsKey);
  const float attn_factor = positive_f32_key(file, "phi3.rope.scaling.attn_factor", 1.0f);
  if (file.find("phi3.attention.sliding_window") != nullptr) {
    // 0 is what converters write for "none"; anything else must at least be a sane length.
    const int64_t w = file.get_i64("phi3.attention.sliding_window");
    if (w != 0) positive_i64_key(file, "phi3.attention.sliding_window", w, kMaxPositionsKey);
  }
  m.rope_freqs = RopeFreqs::long_short;
  for (LayerSpec& l : m.layers) {
    l.attention.qkv_weights = QkvWeights::fused_if_present;
    l.attention.rope.attn_factor = attn_factor;
    l.attention.rope_n_ctx_orig = n_ctx_orig;
    l.ffn.gate_up = GateUpWeights::fused;
  }
  return m;
}

}  // namespace hearth::model
