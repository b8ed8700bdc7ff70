#pragma once
// Test helpers: a tiny random decoder written as a GGUF by the test itself, and an INDEPENDENT
// plain double-precision forward pass of the same network (it shares nothing with src/model or
// src/ops; it only dequantizes the quantized weights with quant's reference to_float, so both
// sides see the same weight values).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf_writer.h"

namespace hearth::model::testing {

// deepseek2's own sizes and options (tiny_deepseek2.cc); head_dim is the key length, the
// non-rotated part plus rope_dim.
struct DeepseekSpec {
  int64_t q_lora_rank = 32;  // 0: q projected directly (attn_q, as V2-Lite)
  int64_t kv_lora_rank = 32;
  int64_t rope_dim = 8;
  int64_t head_dim_v = 16;
  int n_dense = 1;           // leading dense layers
  int n_shared = 1;          // shared experts
  bool sigmoid = true;       // V3: sigmoid gating with exp_probs_b; false: V2's softmax
  bool normalize = true;
  float weights_scale = 2.5f;
  int n_group = 1, n_group_used = 1;
  float yarn_factor = 0.0f;  // 0: no RoPE scaling
  float yarn_log_mul = 0.1f;
  int64_t yarn_orig_ctx = 16;
  bool split_kv_b = false;   // attn_k_b / attn_v_b (newer conversions) instead of attn_kv_b
};

// gpt-oss's own options (tiny_gpt_oss.cc).
struct GptOssSpec {
  float yarn_factor = 4.0f;      // 0: no YaRN keys
  int64_t yarn_orig_ctx = 16;
  int swa_period = 0;            // attention.sliding_window_pattern; 0: key absent (period 2)
  float rope_base_swa = 0.0f;    // rope.freq_base_swa of the windowed layers; 0: key absent
  double expert_scale = 6.0;     // experts' gate/up weights x this: the SwiGLU clamp at 7 acts
  double sink_scale = 2.0;       // sinks uniform in [-this, this]
  gguf::GgmlType expert_type = gguf::GgmlType::F32;  // ffn_{gate,up,down}_exps
};

struct TinySpec {
  std::string arch = "llama";  // llama | qwen2 | qwen3 | qwen3moe | gemma2 | gemma3 | phi3 | deepseek2 | gpt-oss
  int n_expert = 0;            // qwen3moe: routed experts (each of hidden width n_ff)
  int n_expert_used = 0;
  int64_t n_embd = 64;
  int64_t n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int64_t head_dim = 16;  // written as key_length/value_length when != n_embd / n_head
  int64_t n_ff = 96;
  int64_t n_vocab = 80;
  int64_t n_ctx = 64;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied = false;       // no output.weight
  bool rope_freqs = false; // llama 3 style rope_freqs.weight
  // gemma2 / gemma3: the local layers' window (attention.sliding_window); gemma2's soft-caps
  // (attn_logit_softcapping, final_logit_softcapping); gemma3's global layers' linear RoPE
  // scaling factor (rope.scaling.factor; 0 = none).
  int64_t window = 0;
  float attn_softcap = 0.0f, final_softcap = 0.0f;
  float rope_scale = 0.0f;
  // phi3 LongRoPE: rope_factors_short/long.weight and rope.scaling.attn_factor are written when
  // rope_orig_ctx > 0 (rope.scaling.original_context_length).
  int64_t rope_orig_ctx = 0;
  float rope_attn_factor = 1.0f;
  gguf::GgmlType weight_type = gguf::GgmlType::F32;  // layer matrices
  gguf::GgmlType embd_type = gguf::GgmlType::F32;    // token_embd
  gguf::GgmlType output_type = gguf::GgmlType::F32;  // output.weight
  uint64_t seed = 1;
  DeepseekSpec ds;
  GptOssSpec oss;
  // Load-error tests: a tensor left out, and an edit of the metadata before writing.
  std::string skip_tensor;
  std::function<void(gguf::Writer&)> edit;
};

struct RefTensor {
  std::vector<int64_t> ne;    // ne[0] = row length
  std::vector<double> value;  // dequantized
};
using RefWeights = std::map<std::string, RefTensor>;

// Random tensors for fixture writers (write_tiny_model, write_tiny_encoder): values uniform in
// [center - scale, center + scale] from a splitmix64 stream (the same everywhere), quantized to
// `type`; the file gets the quantized bytes (unless the name is `skip`), `weights` the
// dequantized values the reference computes with.
class RandomTensors {
 public:
  RandomTensors(gguf::Writer& w, RefWeights& weights, uint64_t seed, std::string skip = {})
      : writer_(w), weights_(weights), state_(seed), skip_(std::move(skip)) {}
  void add(const std::string& name, gguf::GgmlType type, std::vector<int64_t> ne, double scale,
           double center = 0.0);
  // The tensor of this name is drawn (values kept for the reference) but not written.
  void skip(std::string name) { skip_ = std::move(name); }
  const std::string& skipped() const { return skip_; }

 private:
  double uniform();
  gguf::Writer& writer_;
  RefWeights& weights_;
  uint64_t state_;
  std::string skip_;
};

// Returns the GGUF file bytes; fills `weights` with what the file holds, dequantized.
std::vector<uint8_t> write_tiny_model(const TinySpec& spec, RefWeights* weights);

std::vector<uint8_t> write_deepseek2(const TinySpec& spec, RefWeights* weights);
std::vector<uint8_t> write_gpt_oss(const TinySpec& spec, RefWeights* weights);

// The tiny gpt-oss the model and Vulkan tests share (tiny_gpt_oss.cc): 2 layers (layer 0
// windowed, 3 positions, shorter than the prompts; layer 1 global), 4 heads of 16 over 2 KV
// heads, 6 experts of width 96 (2 used), biases everywhere, sinks uniform in [-2, 2], YaRN x4
// over an original context of 16, gate/up weights large enough that the SwiGLU clamp at 7 cuts
// many values; matrices of type wt, expert stacks of type experts. `period3`:
// attention.sliding_window_pattern 3 over 3 layers (0 and 1 windowed) with their own RoPE base
// (rope.freq_base_swa).
TinySpec tiny_gpt_oss(gguf::GgmlType wt, gguf::GgmlType experts, bool period3 = false);

// The tiny deepseek2 the model and Vulkan tests share (tiny_deepseek2.cc): 3 layers (the first
// dense), 4 heads of key 16 + 8 RoPE and value 16, latent 32, 8 experts of width 64 (2 used) and
// one shared; matrices of type wt. `v3`: q through a rank-32 bottleneck, sigmoid routing with the
// selection bias, 4 groups of which 2 are searched, weights normalized and scaled 2.5, YaRN x4
// over an original context of 16 (the prompt and decode run past it). Otherwise V2-Lite's
// options: q projected directly, softmax routing, no groups, no YaRN.
TinySpec tiny_deepseek2(bool v3, gguf::GgmlType wt);

// Plain double-precision forward, one token at a time, KV in double.
class RefModel {
 public:
  // n_ctx: the context per sequence of the cache the engine side uses (LongRoPE picks its
  // factors by it; other architectures ignore it).
  RefModel(const TinySpec& spec, const RefWeights& weights, int64_t n_ctx = 0);
  // Feeds `token` at the next position; returns n_vocab logits.
  std::vector<double> step(int32_t token);

 private:
  std::vector<double> attention(int64_t il, const std::vector<double>& h);
  std::vector<double> ffn(int64_t il, const std::vector<double>& h);
  const RefTensor& w(const std::string& name) const;
  std::vector<double> matvec(const std::string& name, const std::vector<double>& x) const;
  // x times expert e's matrix of a stacked [n_expert, rows, cols] tensor.
  std::vector<double> expert_matvec(const std::string& name, int e, const std::vector<double>& x) const;
  // deepseek2 (tiny_deepseek2.cc): MLA expanded per head, DeepSeek's routing.
  std::vector<double> step_deepseek2(int32_t token);
  std::vector<double> deepseek_moe(const std::string& p, const std::vector<double>& h) const;
  // gpt-oss (tiny_gpt_oss.cc): attention with biases, sinks and YaRN; its router and SwiGLU.
  std::vector<double> step_gpt_oss(int32_t token);
  std::vector<double> gpt_oss_attention(int64_t il, const std::vector<double>& h);
  std::vector<double> gpt_oss_moe(const std::string& p, const std::vector<double>& h) const;

  TinySpec s_;
  const RefWeights& w_;
  int64_t n_ctx_;
  int64_t pos_ = 0;
  std::vector<std::vector<double>> k_cache_, v_cache_;  // [layer] -> [pos * kv_width]
};

// Relative L2 error ||a - b|| / ||b||.
double rel_error(const float* a, const std::vector<double>& b);

}  // namespace hearth::model::testing
