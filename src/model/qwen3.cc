// Architecture "qwen3": Qwen3 dense models and DeepSeek-R1-0528-Qwen3. No q/k/v biases; each head
// of q and k gets its own RMSNorm (attn_q_norm / attn_k_norm, size head_dim) before NeoX RoPE.
// head_dim comes from attention.key_length (it need not be n_embd / n_head).

#include "model/architectures.h"

namespace hearth::model {

ModelSpec qwen3_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "qwen3", ops::RopeMode::neox);
  ModelSpec m = uniform_decoder_spec(hp);
  for (LayerSpec& l : m.layers) l.attention.qk_norm = QkNorm::per_head_rms;
  return m;
}

}  // namespace hearth::model
