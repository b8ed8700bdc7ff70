#pragma once
// Hyperparameters of a decoder-only transformer, read from a GGUF file's "<arch>.*" keys. Every
// key that is missing, out of range or inconsistent with another is a load error that names the
// file and the key.

#include <cstdint>
#include <string>

#include "gguf/gguf_file.h"
#include "ops/rope.h"

namespace hearth::model {

struct HParams {
  std::string arch;           // general.architecture
  int64_t n_vocab = 0;        // rows of token_embd.weight
  int64_t n_ctx_train = 0;    // <arch>.context_length
  int64_t n_embd = 0;         // <arch>.embedding_length
  int64_t n_layer = 0;        // <arch>.block_count
  int64_t n_ff = 0;           // <arch>.feed_forward_length
  int n_head = 0;             // <arch>.attention.head_count
  int n_head_kv = 0;          // <arch>.attention.head_count_kv (default n_head)
  int64_t head_dim_k = 0;     // <arch>.attention.key_length (default n_embd / n_head)
  int64_t head_dim_v = 0;     // <arch>.attention.value_length (default n_embd / n_head)
  float rms_eps = 0.0f;       // <arch>.attention.layer_norm_rms_epsilon (Norm::rms)
  float norm_eps = 0.0f;      // <arch>.attention.layer_norm_epsilon (Norm::layer: BERT)
  // RoPE: the architecture chooses the mode; the file gives the rest. freq_factors is bound to
  // the rope_freqs tensor by the model when present.
  ops::RopeParams rope;
  std::string rope_scaling;   // "none", "linear" or "yarn"

  int64_t q_width() const { return n_head * head_dim_k; }
  int64_t k_width() const { return n_head_kv * head_dim_k; }
  int64_t v_width() const { return n_head_kv * head_dim_v; }
};

// Which norm the model uses, so which epsilon key is required.
enum class Norm { rms, layer };

// Reads and validates the keys of `arch` (the caller read general.architecture). n_vocab is left
// 0: the model sets it from its embedding tensor.
HParams read_hparams(const gguf::File& file, const std::string& arch, ops::RopeMode rope_mode,
                     Norm norm = Norm::rms);

}  // namespace hearth::model
