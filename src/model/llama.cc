// Architecture "llama": Llama 2 and 3, DeepSeek-R1-Distill-Llama, llama2.c checkpoints such as
// stories260K. Normal (adjacent-pair) RoPE: the GGUF converter permutes Wq/Wk for it. Llama 3
// files may carry rope_freqs.weight (per-frequency divisors); biases are used if a file has them.

#include "model/architectures.h"
#include "model/decoder.h"

namespace hearth::model {

std::unique_ptr<Model> make_llama(gguf::File file, const ops::Backend& backend) {
  HParams hp = read_hparams(file, "llama", ops::RopeMode::normal);
  DecoderOptions opt;
  opt.optional_bias = true;
  opt.rope_freqs = true;
  return std::make_unique<Decoder>(std::move(file), backend, std::move(hp), opt);
}

}  // namespace hearth::model
