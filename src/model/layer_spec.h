#pragma once
// What an architecture file says about its model, layer by layer: which attention block and
// which feed-forward block each layer uses, with which sizes and options. Enums, not flags: a
// family's quirk is a value of a spec field, read by the block it belongs to, never a model-wide
// switch in shared code. Transformer (transformer.h) builds and runs the blocks a spec names.

#include <cstdint>
#include <string>
#include <vector>

#include "ops/moe.h"
#include "ops/rope.h"

namespace hearth::model {

enum class AttentionKind {
  gqa,  // multi-head attention, K/V heads shared by groups of query heads (MHA, GQA, MQA)
  mla,  // multi-head latent attention (DeepSeek-V2/V3): K and V from one low-rank latent
  // Bidirectional multi-head attention of BERT-style encoders (encoder_attention.cc): every row
  // sees its whole sequence; q/k/v separate with biases or fused (attn_qkv), output bias if the
  // file has it, RoPE when rope.n_dims > 0.
  encoder,
};

// Biases of the q/k/v projections: none, required (qwen2), or used when the file has them (llama).
enum class Bias { none, required, if_present };

enum class QkNorm {
  none,
  per_head_rms,  // RMSNorm of each head of q and k (weights of size head_dim) before RoPE (qwen3)
};

// Where q, k and v come from: three matrices (attn_q/attn_k/attn_v), or one fused attn_qkv
// ([q; k; v] rows: Phi-3, gpt-oss as Ollama converted OpenAI's checkpoint, whose biases are one
// attn_qkv.bias alike) when the file has it, else the three.
enum class QkvWeights { separate, fused_if_present };

// Attention sinks (gpt-oss): per query head a learned logit, attn_sinks.weight [n_head], that
// joins the softmax's denominator (ops::AttentionShape::sinks).
enum class Sinks { none, per_head };

struct AttentionSpec {
  AttentionKind kind = AttentionKind::gqa;
  QkvWeights qkv_weights = QkvWeights::separate;
  int n_head = 0;
  int n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  Bias qkv_bias = Bias::none;
  Bias out_bias = Bias::none;  // attn_output.bias (gpt-oss)
  Sinks sinks = Sinks::none;
  // Tensor names under blk.N.: the output projection (<out_name>.weight, <out_name>.bias) and the
  // sinks. Ollama's gpt-oss converter wrote attn_out and attn_sinks (gpt_oss.cc picks the file's).
  const char* out_name = "attn_output";
  const char* sinks_name = "attn_sinks.weight";
  QkNorm qk_norm = QkNorm::none;
  ops::RopeParams rope;   // per layer: local and global layers may differ (Gemma 3)
  int64_t window = 0;     // sliding window in positions; 0 = the whole context
  float softcap = 0.0f;   // attention-logit soft-cap; 0 = none
  float scale = 0.0f;     // q.k scale; 0 = 1 / sqrt(head_dim_k)
  // mla: q through a rank-q_lora_rank bottleneck (0: projected directly), keys and values of
  // every head from a kv_lora_rank latent plus one RoPE key of rope.n_dims shared by the heads;
  // head_dim_k = the non-rotated part + rope.n_dims. The cache holds the latent and RoPE key.
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  // LongRoPE (Phi-3): rope.freq_factors is the short-context table; a cache made for more than
  // rope_n_ctx_orig positions per sequence rotates with rope_long_factors instead (n_dims/2).
  const float* rope_long_factors = nullptr;
  int64_t rope_n_ctx_orig = 0;

  int64_t q_width() const { return n_head * head_dim_k; }
  int64_t k_width() const { return n_head_kv * head_dim_k; }
  int64_t v_width() const { return n_head_kv * head_dim_v; }
};

enum class FfnKind {
  dense,  // down(act(gate(x)) * up(x))
  moe,    // router top-k over experts of that form, plus optional shared experts
  // down(gelu(up x + b_up)) + b_down, no gate (BERT; encoder_ffn.cc)
  sequential,
};

enum class GateActivation {
  silu,  // SwiGLU
  gelu,  // GeGLU (tanh GELU)
  // gpt-oss: gate clamped above at limit, up to [-limit, limit],
  // min(g, limit) * sigmoid(alpha * min(g, limit)) * (clamp(u) + 1) (FfnSpec::oai_alpha, oai_limit)
  swiglu_oai,
};

// Where the gate and up come from: two matrices (two expert stacks), or, for a dense FFN, one
// ffn_up of 2 * n_ff rows with the gate's rows first (Phi-3's gate_up_proj), or, for a MoE, one
// stack ffn_gate_up_exps [n_embd, 2 * n_ff, n_expert] whose rows alternate gate and up (row 2i is
// gate row i, 2i + 1 up row i: OpenAI's mlp1 as Ollama's gpt-oss converter wrote it), its bias
// [2 * n_ff, n_expert] alike.
enum class GateUpWeights { separate, fused, interleaved };

struct FfnSpec {
  FfnKind kind = FfnKind::dense;
  GateUpWeights gate_up = GateUpWeights::separate;  // dense: separate/fused; moe: separate/interleaved
  GateActivation act = GateActivation::silu;
  int64_t n_ff = 0;             // dense: hidden width; moe: each routed expert's hidden width
  int64_t n_expert = 0;         // moe: routed experts (ffn_{gate,up,down}_exps)
  ops::GatingParams gating;     // moe: k, gating function, normalization, scale
  bool selection_bias = false;  // moe: exp_probs_b (DeepSeek-V3) changes which experts win
  int64_t n_ff_shared = 0;      // moe: hidden width of the shared experts (ffn_*_shexp); 0 = none
  bool experts_in_place = false;  // moe: expert stacks read from the mapped file (Placement)
  // moe: biases of the router (ffn_gate_inp.bias, added to its logits) and of each expert's
  // gate, up and down (ffn_{gate,up,down}_exps.bias, [n_expert, width]): gpt-oss.
  Bias expert_bias = Bias::none;
  float oai_alpha = 1.702f;  // GateActivation::swiglu_oai's constants (gpt-oss's, fixed in
  float oai_limit = 7.0f;    // its reference code; the GGUF carries neither)
};

// Norms around a sublayer: pre only (llama), or pre and post (Gemma 2/3: the sublayer's output is
// normed again before it joins the residual).
// Or after (BERT): x = LayerNorm(x + sublayer(x)) with weight and bias (attn_output_norm,
// layer_output_norm).
enum class NormPlacement { pre, pre_and_post, post_layernorm };

struct LayerSpec {
  AttentionSpec attention;
  FfnSpec ffn;
  NormPlacement norms = NormPlacement::pre;
  // The pre-FFN norm's tensor (blk.N.<name>.weight): gpt-oss names it post_attention_norm.
  const char* ffn_norm = "ffn_norm";
};

enum class RopeFreqs {
  none,
  if_present,  // Llama 3's rope_freqs.weight divisors
  long_short,  // LongRoPE's rope_factors_short/long.weight (Phi-3), if the file has them
};

// A decoder (causal, token embeddings in, LM head out) or an encoder (encoder.cc: token + token
// type 0 (+ absolute position) embeddings, LayerNorm, bidirectional layers, hidden states out, no
// head; embeddings only).
enum class ModelKind { decoder, encoder };
enum class PositionEmbd { none, absolute };  // encoder: position_embd.weight rows added (BERT)

struct ModelSpec {
  int64_t n_embd = 0;
  float rms_eps = 0.0f;
  std::vector<LayerSpec> layers;
  RopeFreqs rope_freqs = RopeFreqs::none;
  float embd_scale = 0.0f;      // token embeddings multiplied by this; 0 = not scaled
  float final_softcap = 0.0f;   // logits soft-cap; 0 = none
  ModelKind kind = ModelKind::decoder;
  PositionEmbd position_embd = PositionEmbd::none;
  float norm_eps = 0.0f;        // LayerNorm epsilon (encoders)
};

}  // namespace hearth::model
