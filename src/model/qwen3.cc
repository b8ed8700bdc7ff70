// Architecture "qwen3": Qwen3 dense models and DeepSeek-R1-0528-Qwen3. No q/k/v biases; each head
// of q and k gets its own RMSNorm (attn_q_norm / attn_k_norm, size head_dim) before NeoX RoPE.
// head_dim comes from attention.key_length (it need not be n_embd / n_head).

#include "model/architectures.h"
#include "model/decoder.h"

namespace hearth::model {

std::unique_ptr<Model> make_qwen3(gguf::File file, const ops::Backend& backend) {
  HParams hp = read_hparams(file, "qwen3", ops::RopeMode::neox);
  DecoderOptions opt;
  opt.qk_norm = true;
  return std::make_unique<Decoder>(std::move(file), backend, std::move(hp), opt);
}

}  // namespace hearth::model
