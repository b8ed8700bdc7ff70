// Architectures "bert" (all-minilm, mxbai-embed-large, snowflake-arctic-embed, bge) and
// "nomic-bert" (nomic-embed-text): bidirectional encoders for embeddings (encoder.cc).
//   bert:       absolute position embeddings (position_embd), separate q/k/v with biases, output
//               bias, FFN down(gelu(up x + b) ) + b.
//   nomic-bert: no position embeddings but NEOX RoPE on q and k, fused attn_qkv (bias if present),
//               SwiGLU FFN silu(ffn_gate x) * ffn_up x without biases.
// Keys: <arch>.attention.layer_norm_epsilon (required), <arch>.attention.causal (absent or false:
// a causal encoder is refused), <arch>.pooling_type (read by the engine when it pools),
// nomic-bert.moe_every_n_layers (0 or absent: the MoE variant is refused); the rest as any model
// (hparams.cc).

#include "model/architectures.h"
#include "util/error.h"

namespace hearth::model {

namespace {

ModelSpec encoder_spec(const gguf::File& file, HParams& hp, const std::string& arch,
                       ops::RopeMode rope) {
  hp = read_hparams(file, arch, rope, Norm::layer);
  const std::string causal_key = arch + ".attention.causal";
  if (file.get_bool_or(causal_key, false)) {
    throw Error(ErrorCode::unsupported,
                file.path() + ": key '" + causal_key + "' is true: a causal " + arch +
                    " model is not supported (only bidirectional encoders are)");
  }
  ModelSpec m = uniform_decoder_spec(hp);
  m.kind = ModelKind::encoder;
  m.norm_eps = hp.norm_eps;
  for (LayerSpec& l : m.layers) {
    l.attention.kind = AttentionKind::encoder;
    l.norms = NormPlacement::post_layernorm;
  }
  return m;
}

}  // namespace

ModelSpec bert_spec(const gguf::File& file, HParams& hp) {
  ModelSpec m = encoder_spec(file, hp, "bert", ops::RopeMode::normal);
  m.position_embd = PositionEmbd::absolute;
  for (LayerSpec& l : m.layers) {
    l.attention.rope.n_dims = 0;  // positions are in the embeddings
    l.attention.qkv_bias = Bias::required;
    l.ffn.kind = FfnKind::sequential;
  }
  return m;
}

ModelSpec nomic_bert_spec(const gguf::File& file, HParams& hp) {
  ModelSpec m = encoder_spec(file, hp, "nomic-bert", ops::RopeMode::neox);
  const std::string moe_key = "nomic-bert.moe_every_n_layers";
  if (file.get_i64_or(moe_key, 0) != 0) {
    throw Error(ErrorCode::unsupported,
                file.path() + ": key '" + moe_key + "' is set: nomic-bert with MoE layers is not supported");
  }
  for (LayerSpec& l : m.layers) l.attention.qkv_bias = Bias::if_present;
  return m;
}

bool is_encoder_architecture(const std::string& arch) { return arch == "bert" || arch == "nomic-bert"; }

}  // namespace hearth::model
