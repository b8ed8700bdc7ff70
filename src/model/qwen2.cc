// Architecture "qwen2": Qwen2 / Qwen2.5 and the DeepSeek-R1-Distill-Qwen models. NeoX RoPE
// (rotated halves), and q/k/v projections with biases.

#include "model/architectures.h"

namespace hearth::model {

ModelSpec qwen2_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "qwen2", ops::RopeMode::neox);
  ModelSpec m = uniform_decoder_spec(hp);
  for (LayerSpec& l : m.layers) l.attention.qkv_bias = Bias::required;
  return m;
}

}  // namespace hearth::model
