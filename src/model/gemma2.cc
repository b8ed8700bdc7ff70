// Architecture "gemma2": Gemma 2 (2B, 9B, 27B). Token embeddings scaled by sqrt(n_embd); each
// sublayer's output RMS-normed again before it joins the residual (post_attention_norm,
// post_ffw_norm); GeGLU FFN (tanh GELU); NeoX RoPE; attention scores soft-capped
// (cap * tanh(s / cap), attn_logit_softcapping, default 50) and so are the logits
// (final_logit_softcapping, default 30); even layers see a sliding window
// (attention.sliding_window, default 4096), odd layers the whole context. Tied embeddings unless
// the file has output.weight. The RMSNorm weights need no "+1": llama.cpp's and Ollama's converters
// add it when they write the file (Gemma's HF norm computes x * (1 + w)).

#include <cmath>

#include "model/arch_helpers.h"
#include "model/architectures.h"

namespace hearth::model {

ModelSpec gemma2_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "gemma2", ops::RopeMode::neox);
  ModelSpec m = uniform_decoder_spec(hp);
  m.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
  m.final_softcap = positive_f32_key(file, "gemma2.final_logit_softcapping", 30.0f);
  const float attn_softcap = positive_f32_key(file, "gemma2.attn_logit_softcapping", 50.0f);
  const int64_t window =
      positive_i64_key(file, "gemma2.attention.sliding_window", 4096, kMaxPositionsKey);
  const float scale = gemma_query_scale(hp, 46);
  for (size_t il = 0; il < m.layers.size(); ++il) {
    LayerSpec& l = m.layers[il];
    l.norms = NormPlacement::pre_and_post;
    l.ffn.act = GateActivation::gelu;
    l.attention.softcap = attn_softcap;
    l.attention.scale = scale;
    if (il % 2 == 0) l.attention.window = window;  // local layers alternate with global ones
  }
  return m;
}

}  // namespace hearth::model
