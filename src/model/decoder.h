#pragma once
// The pre-norm decoder shared by the llama family (llama, qwen2, qwen3): per layer,
//   x += Wo · attention(rope(q), rope(k), v)   with q, k, v = W{q,k,v} · rmsnorm(x) (+ biases)
//   x += Wdown · (silu(Wgate · rmsnorm(x)) * (Wup · rmsnorm(x)))
// and logits = Wout · rmsnorm(x). The architecture files (llama.cc, qwen2.cc, qwen3.cc) choose the
// options below and the RoPE mode; this file does the math once for all of them.

#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"
#include "model/weights.h"

namespace hearth::model {

struct DecoderOptions {
  bool qkv_bias = false;       // qwen2: attn_{q,k,v}.bias required
  bool optional_bias = false;  // llama: biases used when the file has them
  bool qk_norm = false;        // qwen3: per-head RMSNorm of q and k (size head_dim) before RoPE
  bool rope_freqs = false;     // llama 3: optional rope_freqs.weight factors
};

class Decoder final : public Model {
 public:
  // Binds every tensor; errors name the file and the tensor.
  Decoder(gguf::File file, const ops::Backend& backend, HParams hp, const DecoderOptions& opt);

 protected:
  void forward_impl(const Batch& batch, KvCache& cache, float* logits) override;

 private:
  struct Layer {
    std::vector<float> attn_norm, ffn_norm, q_norm, k_norm, bq, bk, bv;
    ops::Matrix wq, wk, wv, wo, gate, up, down;
  };

  DecoderOptions opt_;
  ops::Matrix tok_embd_, output_;
  std::vector<float> output_norm_, rope_freqs_;
  std::vector<Layer> layers_;
  std::vector<std::shared_ptr<void>> prepared_;  // what the backend made of the matrices at load
  // Scratch, sized by the largest batch seen: [n_tok, width] each.
  std::vector<float> x_, xn_, q_, k_, v_, att_, o_, gate_, up_;
  std::vector<ops::AttentionRow> rows_;
};

}  // namespace hearth::model
