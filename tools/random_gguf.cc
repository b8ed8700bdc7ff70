// random-gguf: writes a random-weight GGUF of any decoder shape and format, with the vocabulary
// (tokenizer.* keys) copied from another GGUF, so benchmarks run at real model sizes without
// downloading weights. Example (the DeepSeek-R1-Distill-Qwen-1.5B shape):
//   random-gguf --vocab-from qwen2-tiny-q8_0.gguf --arch qwen2 --n-embd 1536 --n-layer 28
//     --n-head 12 --n-head-kv 2 --n-ff 8960 --type q4_K_M -o r1-qwen-1.5b-q4_k_m.gguf
// Weights are N(0, std) from a fixed seed; norms are 1. A quantized --type is made by writing an
// F16 model first and re-quantizing it with the store's llama.cpp-recipe quantizer, so the
// per-tensor format mix is the one real Q4_K_M / Q8_0 files have.

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

namespace {

using hearth::gguf::GgmlType;

struct Shape {
  std::string arch = "qwen2";
  int64_t n_embd = 1536, n_layer = 28, n_head = 12, n_head_kv = 2, n_ff = 8960;
  int64_t n_ctx = 131072;
  float rope_base = 10000.0f, rms_eps = 1e-6f;
  bool tied = false;
};

// SplitMix64 seeds per tensor row block, so generation parallelises yet stays deterministic.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void fill_normal_f16(std::vector<uint16_t>& out, uint64_t seed, float stddev) {
  const int64_t n = static_cast<int64_t>(out.size());
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a random-weight GGUF of a given shape and format", "random-gguf"};
  Shape sh;
  std::string vocab_from, out_path, type = "f16";
  uint64_t seed = 1;
  float stddev = 0.02f;
  app.add_option("--vocab-from", vocab_from, "GGUF whose tokenizer.* keys are copied")->required();
  app.add_option("--arch", sh.arch, "llama, qwen2 or qwen3");
  app.add_option("--n-embd", sh.n_embd);
  app.add_option("--n-layer", sh.n_layer);
  app.add_option("--n-head", sh.n_head);
  app.add_option("--n-head-kv", sh.n_head_kv);
  app.add_option("--n-ff", sh.n_ff);
  app.add_option("--n-ctx", sh.n_ctx);
  app.add_option("--rope-base", sh.rope_base);
  app.add_flag("--tied", sh.tied, "Tie the output matrix to token_embd (no output.weight)");
  app.add_option("--type", type, "f32, f16, or a quantization type (q8_0, q4_K_M, ...)");
  app.add_option("--seed", seed);
  app.add_option("--std", stddev);
  app.add_option("-o,--output", out_path)->required();
  CLI11_PARSE(app, argc, argv);

  try {
    auto vocab = hearth::gguf::File::open(vocab_from);
    const std::vector<std::string> tokens = vocab.get_string_array("tokenizer.ggml.tokens");
    const int64_t n_vocab = static_cast<int64_t>(tokens.size());
    if (sh.arch != "llama" && sh.arch != "qwen2" && sh.arch != "qwen3")
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "unsupported --arch " + sh.arch);
    if (sh.n_head <= 0 || sh.n_embd % sh.n_head != 0 || sh.n_head % sh.n_head_kv != 0)
      throw hearth::Error(hearth::ErrorCode::invalid_argument, "inconsistent head counts");
    const int64_t head_dim = sh.n_embd / sh.n_head;

    hearth::gguf::Writer w;
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
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", sh.rms_eps);
    if (a == "qwen3") {
      w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(head_dim));
      w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(head_dim));
    }
    for (const auto& [key, value] : vocab.metadata()) {
      if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
    }

    std::vector<std::vector<uint16_t>> storage;
    storage.reserve(16 * sh.n_layer + 8);
    uint64_t tensor_seed = seed * 1000003ULL;
    auto add_f16 = [&](const std::string& name, std::vector<int64_t> ne) {
      int64_t n = 1;
      for (auto d : ne) n *= d;
      storage.emplace_back(static_cast<size_t>(n));
      fill_normal_f16(storage.back(), ++tensor_seed, stddev);
      w.add_tensor_view(name, GgmlType::F16, ne, storage.back().data(), n * 2);
    };
    std::vector<std::vector<float>> norms;
    norms.reserve(8 * sh.n_layer + 8);
    auto add_f32 = [&](const std::string& name, int64_t n, float value) {
      norms.emplace_back(static_cast<size_t>(n), value);
      w.add_tensor_view(name, GgmlType::F32, {n}, norms.back().data(), n * 4);
    };
    const int64_t n_kv = head_dim * sh.n_head_kv;
    add_f16("token_embd.weight", {sh.n_embd, n_vocab});
    for (int64_t il = 0; il < sh.n_layer; ++il) {
      std::string p = "blk." + std::to_string(il) + ".";
      add_f32(p + "attn_norm.weight", sh.n_embd, 1.0f);
      add_f16(p + "attn_q.weight", {sh.n_embd, sh.n_embd});
      add_f16(p + "attn_k.weight", {sh.n_embd, n_kv});
      add_f16(p + "attn_v.weight", {sh.n_embd, n_kv});
      if (a == "qwen2") {
        add_f32(p + "attn_q.bias", sh.n_embd, 0.0f);
        add_f32(p + "attn_k.bias", n_kv, 0.0f);
        add_f32(p + "attn_v.bias", n_kv, 0.0f);
      }
      if (a == "qwen3") {
        add_f32(p + "attn_q_norm.weight", head_dim, 1.0f);
        add_f32(p + "attn_k_norm.weight", head_dim, 1.0f);
      }
      add_f16(p + "attn_output.weight", {sh.n_embd, sh.n_embd});
      add_f32(p + "ffn_norm.weight", sh.n_embd, 1.0f);
      add_f16(p + "ffn_gate.weight", {sh.n_embd, sh.n_ff});
      add_f16(p + "ffn_up.weight", {sh.n_embd, sh.n_ff});
      add_f16(p + "ffn_down.weight", {sh.n_ff, sh.n_embd});
    }
    add_f32("output_norm.weight", sh.n_embd, 1.0f);
    if (!sh.tied) add_f16("output.weight", {sh.n_embd, n_vocab});

    std::string lower = type;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "f16") {
      w.write(out_path);
    } else {
      std::string tmp = out_path + ".f16.tmp";
      w.write(tmp);
      storage.clear();
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
