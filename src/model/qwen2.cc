// Architecture "qwen2": Qwen2 / Qwen2.5 and the DeepSeek-R1-Distill-Qwen models. NeoX RoPE
// (rotated halves), and q/k/v projections with biases.

#include "model/architectures.h"
#include "model/decoder.h"

namespace hearth::model {

std::unique_ptr<Model> make_qwen2(gguf::File file, const ops::Backend& backend) {
  HParams hp = read_hparams(file, "qwen2", ops::RopeMode::neox);
  DecoderOptions opt;
  opt.qkv_bias = true;
  return std::make_unique<Decoder>(std::move(file), backend, std::move(hp), opt);
}

}  // namespace hearth::model
