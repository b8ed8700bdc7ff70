// Architecture "llama": Llama 2 and 3, DeepSeek-R1-Distill-Llama, llama2.c checkpoints such as
// stories260K. Normal (adjacent-pair) RoPE: the GGUF converter permutes Wq/Wk for it. Llama 3
// files may carry rope_freqs.weight (per-frequency divisors); biases are used if a file has them.

#include "model/architectures.h"

namespace hearth::model {

ModelSpec llama_spec(const gguf::File& file, HParams& hp) {
  hp = read_hparams(file, "llama", ops::RopeMode::normal);
  ModelSpec m = uniform_decoder_spec(hp);
  for (LayerSpec& l : m.layers) l.attention.qkv_bias = Bias::if_present;
  m.rope_freqs = RopeFreqs::if_present;
  return m;
}

}  // namespace hearth::model
