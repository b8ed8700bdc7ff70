// random-gguf: writes a random-weight GGUF of any decoder shape and format, with the vocabulary
// (tokenizer.* keys) copied from another GGUF, so benchmarks run at real model sizes without
// downloading weights. Encoders (bert, nomic-bert) get a made-up WordPiece vocabulary when no
// --vocab-from is given, or with --unigram-vocab a bge-m3-style (XLM-RoBERTa) Unigram one
// (random_gguf_encoder.h); the nomic-embed-text shape:
//   random-gguf --arch nomic-bert --n-embd 768 --n-layer 12 --n-head 12 --n-head-kv 12
//     --n-ff 3072 --n-ctx 2048 --rope-base 1000 -o nomic-shape-f16.gguf Example (the DeepSeek-R1-Distill-Qwen-1.5B shape):
//   random-gguf --vocab-from qwen2-tiny-q8_0.gguf --arch qwen2 --n-embd 1536 --n-layer 28
//     --n-head 12 --n-head-kv 2 --n-ff 8960 --type q4_K_M -o r1-qwen-1.5b-q4_k_m.gguf
// Weights are N(0, std) from a fixed seed; norms are 1. `--type mxfp4` writes gpt-oss's
// released format (expert stacks MXFP4, the rest Q8_0). A quantized --type is made by writing an
// F16 model first and re-quantizing it with the store's llama.cpp-recipe quantizer, so the
// per-tensor format mix is the one real Q4_K_M / Q8_0 files have. Both steps stream: tensors are
// generated while the file is written and quantized while the output is written, so memory holds
// about one tensor at a time, whatever the model's size (the disk must hold the F16 file).

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/fp16.h"
#include "store/quantize.h"
#include "util/error.h"
#include "util/thread_pool.h"

#include "random_gguf_encoder.h"
#include "random_gguf_ollama.h"

namespace {

using hearth::gguf::GgmlType;
using random_gguf::encoder_tensors;
using random_gguf::EncoderTensor;
using random_gguf::is_encoder;
using random_gguf::set_encoder_keys;
using random_gguf::write_unigram_vocab;
using random_gguf::write_wordpiece_vocab;

struct Shape {
  std::string arch = "qwen2";
  int64_t n_embd = 1536, n_layer = 28, n_head = 12, n_head_kv = 2, n_ff = 8960;
  int64_t head_dim = 0;  // 0: n_embd / n_head
  int64_t n_expert = 0, n_expert_used = 0;  // qwen3moe (--n-ff is then each expert's width)
  // deepseek2: MLA sizes (head_dim = the non-rotated part + rope_dim), leading dense layers of
  // width n_ff, experts of width n_ff_expert, shared experts, V3-style sigmoid gating.
  int64_t q_lora_rank = 0, kv_lora_rank = 512, rope_dim = 64, head_dim_v = 128;
  int64_t n_dense = 1, n_shared = 2, n_ff_expert = 1408;
  bool sigmoid = false;
  bool split_kv_b = false;  // deepseek2: attn_k_b / attn_v_b (newer conversions) for attn_kv_b
  int64_t n_ctx = 131072;
  int64_t window = 4096;  // gemma2/gemma3/gpt-oss: attention.sliding_window
  float yarn_factor = 32.0f;  // gpt-oss: YaRN factor (original context = n_ctx / factor)
  float expert_std = 0.0f;    // gpt-oss: std of the experts' gate/up weights; 0 = --std
  int64_t longrope_orig_ctx = 0;  // phi3: LongRoPE factor tables and keys when > 0
  float rope_base = 10000.0f, rms_eps = 1e-6f;
  bool tied = false;
  std::string name;  // general.name; empty: "random <arch>"
  uint32_t pooling = 1;  // encoders: <arch>.pooling_type (1 mean, 2 cls)
  int64_t n_token_types = 2;  // encoders: rows of token_types.weight
  bool random_affine = false;  // encoders: random biases, LayerNorm weights 1..1.5
  float layer_norm_eps = 1e-12f;  // encoders: attention.layer_norm_epsilon (BERT's)
};

// SplitMix64 seeds per tensor row block, so generation parallelises yet stays deterministic.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void fill_normal_f16(uint16_t* out, int64_t n, uint64_t seed, float stddev) {
  const int64_t chunk = 1 << 16;
  hearth::global_thread_pool().run((n + chunk - 1) / chunk, [&](int64_t c, int) {
    uint64_t s = seed * 0x100000001b3ULL + static_cast<uint64_t>(c);
    int64_t end = std::min(n, (c + 1) * chunk);
    for (int64_t i = c * chunk; i < end; i += 2) {
      // Box-Muller on two 53-bit uniforms.
      double u1 = ((splitmix(s) >> 11) + 1.0) * 0x1.0p-53;
      double u2 = (splitmix(s) >> 11) * 0x1.0p-53;
      double r = std::sqrt(-2.0 * std::log(u1)) * stddev;
      out[i] = hearth::quant::f32_to_fp16(static_cast<float>(r * std::cos(2 * M_PI * u2)));
      if (i + 1 < end) out[i + 1] = hearth::quant::f32_to_fp16(static_cast<float>(r * std::sin(2 * M_PI * u2)));
    }
  });
}

// One tensor of the model: random N(0, std) F16 weights, or an F32 vector of one value (norms 1,
// biases 0), or of values rising evenly from 1 to ramp_to (LongRoPE factor tables).
struct TensorPlan {
  std::string name;
  std::vector<int64_t> ne;
  bool random = true;
  float value = 0.0f;
  float ramp_to = 0.0f;
  bool f32 = false;  // random, but F32 (the quantizer keeps such tensors as they are)
  float std_dev = 0.0f;  // random: this std instead of --std when > 0
};

// gpt-oss's layers: attention with q/k/v/output biases and sinks, the pre-FFN norm named
// post_attention_norm, a router with bias, experts with biases. Biases and sinks are random F32 (as
// in the released files' F32 1-d tensors), so every one of them changes the output.
void plan_gpt_oss_layers(const Shape& sh, std::vector<TensorPlan>& t) {
  const int64_t q = sh.head_dim * sh.n_head, kv = sh.head_dim * sh.n_head_kv, E = sh.n_expert;
  for (int64_t il = 0; il < sh.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    auto bias = [&](const std::string& name, std::vector<int64_t> ne) {
      TensorPlan b{p + name, std::move(ne)};
      b.f32 = true;
      t.push_back(b);
    };
    t.push_back({p + "attn_norm.weight", {sh.n_embd}, false, 1.0f});
    t.push_back({p + "attn_q.weight", {sh.n_embd, q}});
    t.push_back({p + "attn_k.weight", {sh.n_embd, kv}});
    t.push_back({p + "attn_v.weight", {sh.n_embd, kv}});
    bias("attn_q.bias", {q});
    bias("attn_k.bias", {kv});
    bias("attn_v.bias", {kv});
    t.push_back({p + "attn_output.weight", {q, sh.n_embd}});
    bias("attn_output.bias", {sh.n_embd});
    bias("attn_sinks.weight", {sh.n_head});
    t.push_back({p + "post_attention_norm.weight", {sh.n_embd}, false, 1.0f});
    t.push_back({p + "ffn_gate_inp.weight", {sh.n_embd, E}});
    bias("ffn_gate_inp.bias", {E});
    for (const char* name : {"ffn_gate_exps.weight", "ffn_up_exps.weight"}) {
      TensorPlan w{p + name, {sh.n_embd, sh.n_ff, E}};
      w.std_dev = sh.expert_std;
      t.push_back(w);
    }
    t.push_back({p + "ffn_down_exps.weight", {sh.n_ff, sh.n_embd, E}});
    bias("ffn_gate_exps.bias", {sh.n_ff, E});
    bias("ffn_up_exps.bias", {sh.n_ff, E});
    bias("ffn_down_exps.bias", {sh.n_embd, E});
  }
}

void set_gpt_oss_keys(hearth::gguf::Writer& w, const Shape& sh) {
  const std::string a = "gpt-oss.";
  w.set_u32(a + "expert_count", static_cast<uint32_t>(sh.n_expert));
  w.set_u32(a + "expert_used_count", static_cast<uint32_t>(sh.n_expert_used));
  w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(sh.n_ff));
  w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(sh.window));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(sh.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(sh.head_dim));
  if (sh.yarn_factor > 1.0f) {  // the released models': YaRN x32 over a 4096 original context
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", sh.yarn_factor);
    w.set_u32(a + "rope.scaling.original_context_length",
              static_cast<uint32_t>(std::max<int64_t>(1, static_cast<int64_t>(sh.n_ctx / sh.yarn_factor))));
  }
}

// deepseek2's layers: MLA projections (attn_kv_b F32 would be real files' choice only for tiny
// models; here it is generated like the others), dense FFNs, then routed + shared experts.
void plan_deepseek2_layers(const Shape& sh, std::vector<TensorPlan>& t) {
  const int64_t H = sh.n_head, dk = sh.head_dim, nope = dk - sh.rope_dim, L = sh.kv_lora_rank;
  for (int64_t il = 0; il < sh.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    t.push_back({p + "attn_norm.weight", {sh.n_embd}, false, 1.0f});
    if (sh.q_lora_rank > 0) {
      t.push_back({p + "attn_q_a.weight", {sh.n_embd, sh.q_lora_rank}});
      t.push_back({p + "attn_q_a_norm.weight", {sh.q_lora_rank}, false, 1.0f});
      t.push_back({p + "attn_q_b.weight", {sh.q_lora_rank, H * dk}});
    } else {
      t.push_back({p + "attn_q.weight", {sh.n_embd, H * dk}});
    }
    t.push_back({p + "attn_kv_a_mqa.weight", {sh.n_embd, L + sh.rope_dim}});
    t.push_back({p + "attn_kv_a_norm.weight", {L}, false, 1.0f});
    if (sh.split_kv_b) {
      // Per head: Wkb_h transposed ([L][nope]) and Wvb_h ([dv][L]), as llama.cpp's converter splits it.
      t.push_back({p + "attn_k_b.weight", {nope, L, H}});
      t.push_back({p + "attn_v_b.weight", {L, sh.head_dim_v, H}});
    } else {
      t.push_back({p + "attn_kv_b.weight", {L, H * (nope + sh.head_dim_v)}});
    }
    t.push_back({p + "attn_output.weight", {H * sh.head_dim_v, sh.n_embd}});
    t.push_back({p + "ffn_norm.weight", {sh.n_embd}, false, 1.0f});
    if (il < sh.n_dense) {
      t.push_back({p + "ffn_gate.weight", {sh.n_embd, sh.n_ff}});
      t.push_back({p + "ffn_up.weight", {sh.n_embd, sh.n_ff}});
      t.push_back({p + "ffn_down.weight", {sh.n_ff, sh.n_embd}});
      continue;
    }
    const int64_t fe = sh.n_ff_expert, fs = sh.n_ff_expert * sh.n_shared;
    t.push_back({p + "ffn_gate_inp.weight", {sh.n_embd, sh.n_expert}});
    if (sh.sigmoid) t.push_back({p + "exp_probs_b.bias", {sh.n_expert}, false, 0.0f});
    t.push_back({p + "ffn_gate_exps.weight", {sh.n_embd, fe, sh.n_expert}});
    t.push_back({p + "ffn_up_exps.weight", {sh.n_embd, fe, sh.n_expert}});
    t.push_back({p + "ffn_down_exps.weight", {fe, sh.n_embd, sh.n_expert}});
    if (sh.n_shared > 0) {
      t.push_back({p + "ffn_gate_shexp.weight", {sh.n_embd, fs}});
      t.push_back({p + "ffn_up_shexp.weight", {sh.n_embd, fs}});
      t.push_back({p + "ffn_down_shexp.weight", {fs, sh.n_embd}});
    }
  }
}

void set_deepseek2_keys(hearth::gguf::Writer& w, const Shape& sh) {
  const std::string a = "deepseek2.";
  if (sh.q_lora_rank > 0) w.set_u32(a + "attention.q_lora_rank", static_cast<uint32_t>(sh.q_lora_rank));
  w.set_u32(a + "attention.kv_lora_rank", static_cast<uint32_t>(sh.kv_lora_rank));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(sh.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(sh.head_dim_v));
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(sh.rope_dim));
  w.set_u32(a + "leading_dense_block_count", static_cast<uint32_t>(sh.n_dense));
  w.set_u32(a + "expert_count", static_cast<uint32_t>(sh.n_expert));
  w.set_u32(a + "expert_used_count", static_cast<uint32_t>(sh.n_expert_used));
  w.set_u32(a + "expert_shared_count", static_cast<uint32_t>(sh.n_shared));
  w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(sh.n_ff_expert));
  w.set_u32(a + "expert_gating_func", sh.sigmoid ? 2u : 1u);
  w.set_bool(a + "expert_weights_norm", sh.sigmoid);
  w.set_f32(a + "expert_weights_scale", sh.sigmoid ? 2.5f : 1.0f);
}

// What each architecture's file holds, the way its loader (src/model/<arch>.cc) binds it. A new
// architecture adds its keys and tensors here.
std::vector<TensorPlan> plan_tensors(const Shape& sh, int64_t n_vocab) {
  const std::string& a = sh.arch;
  if (a == "deepseek2" || a == "gpt-oss") {
    std::vector<TensorPlan> t;
    t.push_back({"token_embd.weight", {sh.n_embd, n_vocab}});
    (a == "deepseek2" ? plan_deepseek2_layers : plan_gpt_oss_layers)(sh, t);
    t.push_back({"output_norm.weight", {sh.n_embd}, false, 1.0f});
    if (!sh.tied) t.push_back({"output.weight", {sh.n_embd, n_vocab}});
    return t;
  }
  const int64_t hd = sh.head_dim, q = hd * sh.n_head, kv = hd * sh.n_head_kv;
  std::vector<TensorPlan> t;
  if (is_encoder(a)) {
    for (const EncoderTensor& e : encoder_tensors(a, sh.n_embd, sh.n_layer, sh.n_ff, sh.n_ctx, n_vocab,
                                                  sh.n_token_types, sh.random_affine)) {
      TensorPlan plan{e.name, e.ne, e.random, e.value, e.ramp_to};
      plan.f32 = e.f32;
      t.push_back(plan);
    }
    return t;
  }
  t.push_back({"token_embd.weight", {sh.n_embd, n_vocab}});
  if (a == "phi3" && sh.longrope_orig_ctx > 0) {
    t.push_back({"rope_factors_short.weight", {hd / 2}, false, 0.0f, 1.5f});
    t.push_back({"rope_factors_long.weight", {hd / 2}, false, 0.0f, 12.0f});
  }
  for (int64_t il = 0; il < sh.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    t.push_back({p + "attn_norm.weight", {sh.n_embd}, false, 1.0f});
    if (a == "phi3") {
      t.push_back({p + "attn_qkv.weight", {sh.n_embd, q + 2 * kv}});  // [q; k; v] rows
    } else {
      t.push_back({p + "attn_q.weight", {sh.n_embd, q}});
      t.push_back({p + "attn_k.weight", {sh.n_embd, kv}});
      t.push_back({p + "attn_v.weight", {sh.n_embd, kv}});
    }
    if (a == "qwen2") {
      t.push_back({p + "attn_q.bias", {q}, false, 0.0f});
      t.push_back({p + "attn_k.bias", {kv}, false, 0.0f});
      t.push_back({p + "attn_v.bias", {kv}, false, 0.0f});
    }
    if (a == "qwen3" || a == "qwen3moe" || a == "gemma3") {
      t.push_back({p + "attn_q_norm.weight", {hd}, false, 1.0f});
      t.push_back({p + "attn_k_norm.weight", {hd}, false, 1.0f});
    }
    t.push_back({p + "attn_output.weight", {q, sh.n_embd}});
    t.push_back({p + "ffn_norm.weight", {sh.n_embd}, false, 1.0f});
    if (a == "gemma2" || a == "gemma3") {
      t.push_back({p + "post_attention_norm.weight", {sh.n_embd}, false, 1.0f});
      t.push_back({p + "post_ffw_norm.weight", {sh.n_embd}, false, 1.0f});
    }
    if (a == "phi3") {  // gate and up fused: [gate; up] rows
      t.push_back({p + "ffn_up.weight", {sh.n_embd, 2 * sh.n_ff}});
      t.push_back({p + "ffn_down.weight", {sh.n_ff, sh.n_embd}});
      continue;
    }
    if (a == "qwen3moe") {
      t.push_back({p + "ffn_gate_inp.weight", {sh.n_embd, sh.n_expert}});
      t.push_back({p + "ffn_gate_exps.weight", {sh.n_embd, sh.n_ff, sh.n_expert}});
      t.push_back({p + "ffn_up_exps.weight", {sh.n_embd, sh.n_ff, sh.n_expert}});
      t.push_back({p + "ffn_down_exps.weight", {sh.n_ff, sh.n_embd, sh.n_expert}});
      continue;
    }
    t.push_back({p + "ffn_gate.weight", {sh.n_embd, sh.n_ff}});
    t.push_back({p + "ffn_up.weight", {sh.n_embd, sh.n_ff}});
    t.push_back({p + "ffn_down.weight", {sh.n_ff, sh.n_embd}});
  }
  t.push_back({"output_norm.weight", {sh.n_embd}, false, 1.0f});
  if (!sh.tied) t.push_back({"output.weight", {sh.n_embd, n_vocab}});
  return t;
}

void set_keys(hearth::gguf::Writer& w, const Shape& sh) {
  const std::string& a = sh.arch;
  w.set_string("general.architecture", a);
  w.set_string("general.name", sh.name.empty() ? "random " + a : sh.name);
  w.set_u32("general.file_type", 1);
  w.set_u32(a + ".context_length", static_cast<uint32_t>(sh.n_ctx));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(sh.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(sh.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(sh.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(sh.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(sh.n_head_kv));
  w.set_f32(a + ".rope.freq_base", sh.rope_base);
  if (is_encoder(a)) return set_encoder_keys(w, a, sh.pooling, sh.layer_norm_eps);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", sh.rms_eps);
  if (a == "deepseek2") return set_deepseek2_keys(w, sh);
  if (a == "gpt-oss") return set_gpt_oss_keys(w, sh);
  if (a == "qwen3moe") {
    w.set_u32(a + ".expert_count", static_cast<uint32_t>(sh.n_expert));
    w.set_u32(a + ".expert_used_count", static_cast<uint32_t>(sh.n_expert_used));
    w.set_u32(a + ".expert_feed_forward_length", static_cast<uint32_t>(sh.n_ff));
  }
  if (a == "gemma2" || a == "gemma3") {
    w.set_u32(a + ".attention.sliding_window", static_cast<uint32_t>(sh.window));
  }
  if (a == "phi3" && sh.longrope_orig_ctx > 0) {
    // What the converters store: sqrt(1 + ln(scale) / ln(orig)), scale = n_ctx / orig.
    const double orig = static_cast<double>(sh.longrope_orig_ctx);
    const double scale = static_cast<double>(sh.n_ctx) / orig;
    w.set_u32(a + ".rope.scaling.original_context_length", static_cast<uint32_t>(sh.longrope_orig_ctx));
    w.set_f32(a + ".rope.scaling.attn_factor",
              scale > 1.0 ? static_cast<float>(std::sqrt(1.0 + std::log(scale) / std::log(orig))) : 1.0f);
  }
  if (a == "gemma2") {  // Gemma 2's released values
    w.set_f32(a + ".attn_logit_softcapping", 50.0f);
    w.set_f32(a + ".final_logit_softcapping", 30.0f);
  }
  const bool always_key_length = a == "qwen3" || a == "qwen3moe" || a == "gemma2" || a == "gemma3";
  if (sh.head_dim * sh.n_head != sh.n_embd || always_key_length) {
    w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(sh.head_dim));
    w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(sh.head_dim));
  }
}

const char* const kArchitectures[] = {"llama", "qwen2", "qwen3", "qwen3moe", "gemma2", "gemma3", "phi3", "deepseek2", "gpt-oss", "bert", "nomic-bert"};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a random-weight GGUF of a given shape and format", "random-gguf"};
  Shape sh;
  std::string vocab_from, out_path, type = "f16";
  uint64_t seed = 1;
  float stddev = 0.02f;
  int64_t wordpiece_size = 30522;
  app.add_option("--vocab-from", vocab_from,
                 "GGUF whose tokenizer.* keys are copied (required but for bert and nomic-bert)");
  app.add_option("--wordpiece-size", wordpiece_size,
                 "bert, nomic-bert without --vocab-from: tokens of the made-up WordPiece vocabulary");
  std::string unigram_vocab;
  app.add_option("--unigram-vocab", unigram_vocab,
                 "bert, nomic-bert: an XLM-RoBERTa (bge-m3) Unigram vocabulary from this JSON file "
                 "(a SentencePiece model in the format of tests/tokenizer/goldens/ugm_vocab.json)");
  app.add_option("--pooling", sh.pooling, "bert, nomic-bert: pooling_type (1 mean, 2 cls)");
  app.add_option("--norm-eps", sh.layer_norm_eps,
                 "bert, nomic-bert: layer_norm_epsilon (default 1e-12; a large one, such as 1e-3, "
                 "changes the output measurably, so a test sees an implementation ignore it)");
  app.add_flag("--random-biases", sh.random_affine,
               "bert, nomic-bert: random biases and LayerNorm biases (F32), LayerNorm weights "
               "rising from 1 to 1.5 (default: biases 0, weights 1)");
  app.add_option("--arch", sh.arch, "llama, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, deepseek2, gpt-oss, bert or nomic-bert");
  app.add_option("--n-embd", sh.n_embd);
  app.add_option("--n-layer", sh.n_layer);
  app.add_option("--n-head", sh.n_head);
  app.add_option("--n-head-kv", sh.n_head_kv);
  app.add_option("--n-ff", sh.n_ff);
  app.add_option("--head-dim", sh.head_dim, "key/value head size (default n_embd / n_head)");
  app.add_option("--n-expert", sh.n_expert, "qwen3moe, deepseek2, gpt-oss: routed experts");
  app.add_option("--n-expert-used", sh.n_expert_used, "qwen3moe, deepseek2, gpt-oss: experts per token");
  app.add_option("--expert-std", sh.expert_std,
                 "gpt-oss: std of the experts' gate/up weights (default --std; large enough, the "
                 "SwiGLU clamp at 7 is reached)");
  app.add_option("--yarn-factor", sh.yarn_factor, "gpt-oss: YaRN factor (default 32; 1: no YaRN keys)");
  std::string ollama_layout;
  app.add_option("--ollama-layout", ollama_layout,
                 "gpt-oss: write Ollama's layout of the same weights (random_gguf_ollama.h): 'split' "
                 "(its published files: other key and tensor names), 'fused' (also attn_qkv and "
                 "the interleaved ffn_gate_up_exps) or 'openai-mxfp4' (fused, MXFP4 as type 4 in "
                 "OpenAI's code order)")
      ->check(CLI::IsMember({"split", "fused", "openai-mxfp4"}));
  app.add_option("--q-lora-rank", sh.q_lora_rank, "deepseek2: q bottleneck (0: none, as V2-Lite)");
  app.add_option("--kv-lora-rank", sh.kv_lora_rank, "deepseek2: latent size");
  app.add_option("--rope-dim", sh.rope_dim, "deepseek2: RoPE part of --head-dim");
  app.add_option("--head-dim-v", sh.head_dim_v, "deepseek2: value head size");
  app.add_option("--n-dense", sh.n_dense, "deepseek2: leading dense layers (width --n-ff)");
  app.add_option("--n-shared", sh.n_shared, "deepseek2: shared experts");
  app.add_option("--n-ff-expert", sh.n_ff_expert, "deepseek2: each expert's width");
  app.add_flag("--sigmoid", sh.sigmoid, "deepseek2: V3's sigmoid gating with exp_probs_b");
  app.add_flag("--split-kv-b", sh.split_kv_b,
               "deepseek2: attn_k_b and attn_v_b per head (newer conversions) instead of attn_kv_b");
  app.add_option("--n-ctx", sh.n_ctx);
  app.add_option("--window", sh.window, "gemma2/gemma3/gpt-oss: sliding window of the local layers");
  app.add_option("--longrope-orig-ctx", sh.longrope_orig_ctx,
                 "phi3: write LongRoPE factor tables for this original context (below --n-ctx)");
  app.add_option("--rope-base", sh.rope_base);
  app.add_flag("--tied", sh.tied, "Tie the output matrix to token_embd (no output.weight; always for gemma)");
  // llama.cpp sets token attributes by general.name (a name with "phi3" in it needs Phi-3's
  // <|endoftext|> in the vocabulary), so a fixture with another vocabulary may need another name.
  app.add_option("--name", sh.name, "general.name (default: random ARCH)");
  app.add_option("--type", type, "f32, f16, or a quantization type (q8_0, q4_K_M, ...)");
  app.add_option("--seed", seed);
  app.add_option("--std", stddev);
  app.add_option("-o,--output", out_path)->required();
  CLI11_PARSE(app, argc, argv);

  try {
    bool known = false;
    for (const char* a : kArchitectures) known = known || sh.arch == a;
    if (!known) throw hearth::Error(hearth::ErrorCode::invalid_argument, "unsupported --arch " + sh.arch);
    if (sh.n_head <= 0 || sh.n_head_kv <= 0 || sh.n_head % sh.n_head_kv != 0)
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "inconsistent head counts");
    if ((sh.arch == "qwen3moe" || sh.arch == "deepseek2" || sh.arch == "gpt-oss") &&
        (sh.n_expert < 1 || sh.n_expert_used < 1 || sh.n_expert_used > sh.n_expert))
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "qwen3moe, deepseek2 and gpt-oss need --n-expert and --n-expert-used");
    if (sh.arch == "gemma2" || sh.arch == "gemma3") sh.tied = true;  // as Gemma's files are
    if (!ollama_layout.empty() && sh.arch != "gpt-oss")
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "--ollama-layout is for --arch gpt-oss");
    if (sh.head_dim == 0) {
      if (sh.n_embd % sh.n_head != 0)
        throw hearth::Error(hearth::ErrorCode::invalid_argument, "--n-embd is not a multiple of --n-head: give --head-dim");
      sh.head_dim = sh.n_embd / sh.n_head;
    }
    hearth::gguf::Writer w;
    set_keys(w, sh);
    int64_t n_vocab = 0;
    if (!unigram_vocab.empty() && (!is_encoder(sh.arch) || !vocab_from.empty()))
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "--unigram-vocab is for bert and nomic-bert, without --vocab-from");
    if (!unigram_vocab.empty()) {
      n_vocab = write_unigram_vocab(w, unigram_vocab);
      sh.n_token_types = 1;  // XLM-RoBERTa's type_vocab_size
    } else if (vocab_from.empty()) {
      if (!is_encoder(sh.arch)) throw hearth::Error(hearth::ErrorCode::invalid_argument, "--vocab-from is required");
      n_vocab = write_wordpiece_vocab(w, wordpiece_size);
    } else {
      auto vocab = hearth::gguf::File::open(vocab_from);
      n_vocab = static_cast<int64_t>(vocab.get_string_array("tokenizer.ggml.tokens").size());
      for (const auto& [key, value] : vocab.metadata()) {
        if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
      }
    }
    // Tensors are made while the file is written, one at a time, so memory holds one tensor
    // (a 14B shape's F16 model is 28 GB: more than this machine has).
    uint64_t tensor_seed = seed * 1000003ULL;
    for (const TensorPlan& t : plan_tensors(sh, n_vocab)) {
      int64_t n = 1;
      for (auto d : t.ne) n *= d;
      const float tstd = t.std_dev > 0.0f ? t.std_dev : stddev;
      if (t.random && t.f32) {
        const uint64_t ts = ++tensor_seed;
        w.add_tensor_generated(t.name, GgmlType::F32, t.ne, static_cast<size_t>(n) * 4,
                               [n, ts, stddev = tstd](uint8_t* dst) {
                                 std::vector<uint16_t> h(static_cast<size_t>(n));
                                 fill_normal_f16(h.data(), n, ts, stddev);
                                 auto* f = reinterpret_cast<float*>(dst);
                                 for (int64_t i = 0; i < n; ++i) f[i] = hearth::quant::fp16_to_f32(h[i]);
                               });
      } else if (t.random) {
        const uint64_t ts = ++tensor_seed;
        w.add_tensor_generated(t.name, GgmlType::F16, t.ne, static_cast<size_t>(n) * 2,
                               [n, ts, stddev = tstd](uint8_t* dst) {
                                 fill_normal_f16(reinterpret_cast<uint16_t*>(dst), n, ts, stddev);
                               });
      } else {
        const float v = t.value, top = t.ramp_to;
        w.add_tensor_generated(t.name, GgmlType::F32, t.ne, static_cast<size_t>(n) * 4,
                               [n, v, top](uint8_t* dst) {
                                 float* f = reinterpret_cast<float*>(dst);
                                 for (int64_t i = 0; i < n; ++i) {
                                   f[i] = top > 0.0f ? 1.0f + (top - 1.0f) * static_cast<float>(i) /
                                                                  static_cast<float>(std::max<int64_t>(1, n - 1))
                                                     : v;
                                 }
                               });
      }
    }

    std::string lower = type;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "f16") {
      w.write(out_path);
    } else {
      std::string tmp = out_path + ".f16.tmp";
      w.write(tmp);
      {
        auto src = hearth::gguf::File::open(tmp);
        auto ftype = lower == "f32" ? hearth::store::FileType::ALL_F32
                                    : hearth::store::parse_quantization_type(type);
        hearth::store::quantize_gguf(src, ftype, out_path, [](uint64_t done, uint64_t total) {
          std::fprintf(stderr, "\rquantizing %3d%%", static_cast<int>(100.0 * done / total));
        });
        std::fprintf(stderr, "\n");
      }
      std::remove(tmp.c_str());
    }
    if (!ollama_layout.empty()) {
      const std::string tmp = out_path + ".ollama.tmp";
      random_gguf::write_ollama_gpt_oss(hearth::gguf::File::open(out_path), tmp, ollama_layout);
      if (std::rename(tmp.c_str(), out_path.c_str()) != 0)
        throw hearth::Error(hearth::ErrorCode::io, "cannot rename " + tmp + " to " + out_path);
    }
    std::fprintf(stderr, "wrote %s\n", out_path.c_str());
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  return 0;
}
