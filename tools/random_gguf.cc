// random-gguf: writes a random-weight GGUF of any decoder shape and format, with the vocabulary
// (tokenizer.* keys) copied from another GGUF, so benchmarks run at real model sizes without
// downloading weights. Encoders (bert, nomic-bert) get a made-up WordPiece vocabulary when no
// --vocab-from is given (random_gguf_encoder.h); the nomic-embed-text shape:
//   random-gguf --arch nomic-bert --n-embd 768 --n-layer 12 --n-head 12 --n-head-kv 12
//     --n-ff 3072 --n-ctx 2048 --rope-base 1000 -o nomic-shape-f16.gguf Example (the DeepSeek-R1-Distill-Qwen-1.5B shape):
//   random-gguf --vocab-from qwen2-tiny-q8_0.gguf --arch qwen2 --n-embd 1536 --n-layer 28
//     --n-head 12 --n-head-kv 2 --n-ff 8960 --type q4_K_M -o r1-qwen-1.5b-q4_k_m.gguf
// Weights are N(0, std) from a fixed seed; norms are 1. A quantized --type is made by writing an
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

namespace {

using hearth::gguf::GgmlType;
using random_gguf::encoder_tensors;
using random_gguf::EncoderTensor;
using random_gguf::is_encoder;
using random_gguf::set_encoder_keys;
using random_gguf::write_wordpiece_vocab;

struct Shape {
  std::string arch = "qwen2";
  int64_t n_embd = 1536, n_layer = 28, n_head = 12, n_head_kv = 2, n_ff = 8960;
  int64_t head_dim = 0;  // 0: n_embd / n_head
  int64_t n_expert = 0, n_expert_used = 0;  // qwen3moe (--n-ff is then each expert's width)
  int64_t n_ctx = 131072;
  float rope_base = 10000.0f, rms_eps = 1e-6f;
  bool tied = false;
  uint32_t pooling = 1;  // encoders: <arch>.pooling_type (1 mean, 2 cls)
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
// biases 0).
struct TensorPlan {
  std::string name;
  std::vector<int64_t> ne;
  bool random = true;
  float value = 0.0f;
  bool f32 = false;  // random, but F32 (the quantizer keeps such tensors as they are)
};

// What each architecture's file holds, the way its loader (src/model/<arch>.cc) binds it. A new
// architecture adds its keys and tensors here.
std::vector<TensorPlan> plan_tensors(const Shape& sh, int64_t n_vocab) {
  const std::string& a = sh.arch;
  const int64_t hd = sh.head_dim, q = hd * sh.n_head, kv = hd * sh.n_head_kv;
  std::vector<TensorPlan> t;
  if (is_encoder(a)) {
    for (const EncoderTensor& e : encoder_tensors(a, sh.n_embd, sh.n_layer, sh.n_ff, sh.n_ctx, n_vocab)) {
      t.push_back({e.name, e.ne, e.random, e.value, e.f32});
    }
    return t;
  }
  t.push_back({"token_embd.weight", {sh.n_embd, n_vocab}});
  for (int64_t il = 0; il < sh.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    t.push_back({p + "attn_norm.weight", {sh.n_embd}, false, 1.0f});
    t.push_back({p + "attn_q.weight", {sh.n_embd, q}});
    t.push_back({p + "attn_k.weight", {sh.n_embd, kv}});
    t.push_back({p + "attn_v.weight", {sh.n_embd, kv}});
    if (a == "qwen2") {
      t.push_back({p + "attn_q.bias", {q}, false, 0.0f});
      t.push_back({p + "attn_k.bias", {kv}, false, 0.0f});
      t.push_back({p + "attn_v.bias", {kv}, false, 0.0f});
    }
    if (a == "qwen3" || a == "qwen3moe") {
      t.push_back({p + "attn_q_norm.weight", {hd}, false, 1.0f});
      t.push_back({p + "attn_k_norm.weight", {hd}, false, 1.0f});
    }
    t.push_back({p + "attn_output.weight", {q, sh.n_embd}});
    t.push_back({p + "ffn_norm.weight", {sh.n_embd}, false, 1.0f});
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
  w.set_string("general.name", "random " + a);
  w.set_u32("general.file_type", 1);
  w.set_u32(a + ".context_length", static_cast<uint32_t>(sh.n_ctx));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(sh.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(sh.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(sh.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(sh.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(sh.n_head_kv));
  w.set_f32(a + ".rope.freq_base", sh.rope_base);
  if (is_encoder(a)) return set_encoder_keys(w, a, sh.pooling);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", sh.rms_eps);
  if (a == "qwen3moe") {
    w.set_u32(a + ".expert_count", static_cast<uint32_t>(sh.n_expert));
    w.set_u32(a + ".expert_used_count", static_cast<uint32_t>(sh.n_expert_used));
    w.set_u32(a + ".expert_feed_forward_length", static_cast<uint32_t>(sh.n_ff));
  }
  if (sh.head_dim * sh.n_head != sh.n_embd || a == "qwen3" || a == "qwen3moe") {
    w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(sh.head_dim));
    w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(sh.head_dim));
  }
}

const char* const kArchitectures[] = {"llama", "qwen2", "qwen3", "qwen3moe", "bert", "nomic-bert"};

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
  app.add_option("--pooling", sh.pooling, "bert, nomic-bert: pooling_type (1 mean, 2 cls)");
  app.add_option("--arch", sh.arch, "llama, qwen2, qwen3, qwen3moe, bert or nomic-bert");
  app.add_option("--n-embd", sh.n_embd);
  app.add_option("--n-layer", sh.n_layer);
  app.add_option("--n-head", sh.n_head);
  app.add_option("--n-head-kv", sh.n_head_kv);
  app.add_option("--n-ff", sh.n_ff);
  app.add_option("--head-dim", sh.head_dim, "key/value head size (default n_embd / n_head)");
  app.add_option("--n-expert", sh.n_expert, "qwen3moe: routed experts");
  app.add_option("--n-expert-used", sh.n_expert_used, "qwen3moe: experts per token");
  app.add_option("--n-ctx", sh.n_ctx);
  app.add_option("--rope-base", sh.rope_base);
  app.add_flag("--tied", sh.tied, "Tie the output matrix to token_embd (no output.weight)");
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
    if (sh.arch == "qwen3moe" && (sh.n_expert < 1 || sh.n_expert_used < 1 || sh.n_expert_used > sh.n_expert))
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "qwen3moe needs --n-expert and --n-expert-used");
    if (sh.head_dim == 0) {
      if (sh.n_embd % sh.n_head != 0)
        throw hearth::Error(hearth::ErrorCode::invalid_argument, "--n-embd is not a multiple of --n-head: give --head-dim");
      sh.head_dim = sh.n_embd / sh.n_head;
    }
    hearth::gguf::Writer w;
    set_keys(w, sh);
    int64_t n_vocab = 0;
    if (vocab_from.empty()) {
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
      if (t.random && t.f32) {
        const uint64_t ts = ++tensor_seed;
        w.add_tensor_generated(t.name, GgmlType::F32, t.ne, static_cast<size_t>(n) * 4,
                               [n, ts, stddev](uint8_t* dst) {
                                 std::vector<uint16_t> h(static_cast<size_t>(n));
                                 fill_normal_f16(h.data(), n, ts, stddev);
                                 auto* f = reinterpret_cast<float*>(dst);
                                 for (int64_t i = 0; i < n; ++i) f[i] = hearth::quant::fp16_to_f32(h[i]);
                               });
      } else if (t.random) {
        const uint64_t ts = ++tensor_seed;
        w.add_tensor_generated(t.name, GgmlType::F16, t.ne, static_cast<size_t>(n) * 2,
                               [n, ts, stddev](uint8_t* dst) {
                                 fill_normal_f16(reinterpret_cast<uint16_t*>(dst), n, ts, stddev);
                               });
      } else {
        const float v = t.value;
        w.add_tensor_generated(t.name, GgmlType::F32, t.ne, static_cast<size_t>(n) * 4,
                               [n, v](uint8_t* dst) {
                                 std::fill_n(reinterpret_cast<float*>(dst), n, v);
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
    std::fprintf(stderr, "wrote %s\n", out_path.c_str());
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  return 0;
}
