// Architecture "gemma3": Gemma 3 text (1B, 4B, 12B, 27B; the vision tower of a multimodal file is
// not used). Gemma 2's layer (embeddings scaled by sqrt(n_embd), pre and post norms, GeGLU, NeoX
// RoPE) with per-head q/k RMSNorm and no attention soft-cap. Five local layers to one global:
// layer il is global when (il + 1) % 6 == 0. Local layers see a sliding window
// (attention.sliding_window, required) and rotate with base 10000 unscaled (rope.local.freq_base
// where Ollama's converter writes it); global layers see the whole context and rotate with
// rope.global.freq_base or rope.freq_base (default 1e6), scaled linearly by rope.scaling.factor
// when the file has it (4B-27B: 8). No logit soft-cap unless the file gives
// final_logit_softcapping. As for Gemma 2, the norm weights already include the "+1".

#include <cmath>

#include "model/arch_helpers.h"
#include "model/architectures.h"

namespace hearth::model {

namespace {
constexpr int kLayersPerGlobal = 6;
}  // namespace

ModelSpec gemma3_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "gemma3", ops::RopeMode::neox);
  ModelSpec m = uniform_decoder_spec(hp);
  m.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
  if (file.find("gemma3.final_logit_softcapping") != nullptr) {
    m.final_softcap = positive_f32_key(file, "gemma3.final_logit_softcapping", 0.0f);
  }
  // Required (llama.cpp refuses a gemma3 file without it too): get_i64 names the missing key.
  const std::string window_key = "gemma3.attention.sliding_window";
  const int64_t window =
      positive_i64_key(file, window_key, file.get_i64(window_key), kMaxPositionsKey);
  const float global_base = positive_f32_key(file, "gemma3.rope.global.freq_base",
                                             positive_f32_key(file, "gemma3.rope.freq_base", 1e6f));
  const float local_base = positive_f32_key(file, "gemma3.rope.local.freq_base", 10000.0f);
  const float scale = gemma_query_scale(hp, 62);
  for (size_t il = 0; il < m.layers.size(); ++il) {
    LayerSpec& l = m.layers[il];
    l.norms = NormPlacement::pre_and_post;
    l.ffn.act = GateActivation::gelu;
    l.attention.qk_norm = QkNorm::per_head_rms;
    l.attention.scale = scale;
    l.attention.rope.freq_base = global_base;
    if ((il + 1) % kLayersPerGlobal != 0) {
      l.attention.window = window;
      l.attention.rope.freq_base = local_base;
      l.attention.rope.freq_scale = 1.0f;  // the linear scaling is the global layers' only
    }
  }
  return m;
}

}  // namespace hearth::model
