#pragma once
// random-gguf --ollama-layout: rewrites a gpt-oss file written in llama.cpp's layout into the
// layout of Ollama's own gpt-oss files, with the same weight bytes, so a test can check that both
// give the same logits. What differs (ollama/ollama's convert/convert_gptoss.go, its
// model/models/gptoss/model.go, and llama/compat/llama-ollama-compat.cpp, which maps its published
// files onto llama.cpp's loader):
//   - general.architecture "gptoss" and keys gptoss.*, without expert_feed_forward_length
//     (feed_forward_length is the experts' width) and without rope.scaling.type (YaRN implied);
//   - tensors attn_out.{weight,bias} (attn_output), attn_sinks (attn_sinks.weight) and
//     ffn_norm.weight (post_attention_norm.weight);
//   - `fused` (files Ollama converted from OpenAI's original checkpoint before October 2025):
//     attn_qkv.{weight,bias} with the q, k and v rows (and biases) one after the other, and
//     ffn_gate_up_exps.{weight,bias} whose rows (bias values) alternate gate and up per expert;
//   - `openai-mxfp4` (its files of August 2025): `fused`, with the MXFP4 stacks stored as tensor
//     type 4 and each block's codes in OpenAI's order (byte k: codes 2k, 2k + 1) instead of
//     ggml's (byte j: codes j, j + 16).
// A header of random_gguf.cc (each tools/*.cc is an executable of its own).

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace random_gguf {

using hearth::gguf::GgmlType;
using hearth::gguf::TensorInfo;

inline std::vector<int64_t> dims_of(const TensorInfo& t) { return std::vector<int64_t>(t.ne, t.ne + t.n_dims); }

// ggml's MXFP4 blocks (an E8M0 byte, 16 bytes of codes j | code j + 16 << 4) to OpenAI's code
// order (code 2k | code 2k + 1 << 4), in place.
inline void mxfp4_to_openai_order(uint8_t* blocks, size_t n_bytes) {
  for (size_t b = 0; b + 17 <= n_bytes; b += 17) {
    uint8_t* q = blocks + b + 1;
    auto code = [q](int m) { return m < 16 ? q[m] & 0x0F : q[m - 16] >> 4; };
    uint8_t out[16];
    for (int k = 0; k < 16; ++k) out[k] = static_cast<uint8_t>(code(2 * k) | code(2 * k + 1) << 4);
    std::memcpy(q, out, 16);
  }
}

// The output file's tensors: bytes made on demand, MXFP4 ones stored as type 4 in OpenAI's
// order when `openai_mxfp4`.
struct OllamaWriter {
  hearth::gguf::Writer w;
  bool openai_mxfp4 = false;

  void add(const std::string& name, GgmlType type, const std::vector<int64_t>& ne, size_t n_bytes,
           std::function<void(uint8_t*)> produce) {
    if (openai_mxfp4 && type == GgmlType::MXFP4) {
      w.add_tensor_generated(name, static_cast<GgmlType>(4), ne, n_bytes, [produce, n_bytes](uint8_t* dst) {
        produce(dst);
        mxfp4_to_openai_order(dst, n_bytes);
      });
    } else {
      w.add_tensor_generated(name, type, ne, n_bytes, std::move(produce));
    }
  }

  // Rows of the same type stacked in order: [a; b; c] (matrices or vectors).
  void concat(const std::string& name, const std::vector<const TensorInfo*>& parts) {
    std::vector<int64_t> ne = dims_of(*parts[0]);
    const int axis = parts[0]->n_dims - 1;  // rows (matrices) or values (vectors)
    ne[axis] = 0;
    size_t bytes = 0;
    for (const TensorInfo* t : parts) {
      if (t->type != parts[0]->type || t->n_dims != parts[0]->n_dims || (axis > 0 && t->ne[0] != parts[0]->ne[0])) {
        throw hearth::Error(hearth::ErrorCode::invalid_argument,
                            "--ollama-layout: " + t->name + " differs in type or row length from " + parts[0]->name);
      }
      ne[axis] += t->ne[axis];
      bytes += t->n_bytes;
    }
    add(name, parts[0]->type, ne, bytes, [parts](uint8_t* dst) {
      for (const TensorInfo* t : parts) dst = static_cast<uint8_t*>(std::memcpy(dst, t->data, t->n_bytes)) + t->n_bytes;
    });
  }

  // Per expert (outermost dimension), the units (rows of a stack, values of a bias table) of a
  // and b alternating: a0 b0 a1 b1 ...
  void interleave(const std::string& name, const TensorInfo& a, const TensorInfo& b) {
    if (a.type != b.type || a.n_bytes != b.n_bytes || a.n_dims != b.n_dims) {
      throw hearth::Error(hearth::ErrorCode::invalid_argument,
                          "--ollama-layout: " + a.name + " and " + b.name + " differ in type or shape");
    }
    std::vector<int64_t> ne = dims_of(a);
    const int unit_axis = a.n_dims - 2;  // rows of each expert's matrix, or a bias row's values
    const int64_t n_units = ne.back() * ne[unit_axis];
    const size_t unit_bytes = a.n_bytes / static_cast<size_t>(n_units);
    ne[unit_axis] *= 2;
    add(name, a.type, ne, 2 * a.n_bytes, [&a, &b, n_units, unit_bytes](uint8_t* dst) {
      for (int64_t i = 0; i < n_units; ++i) {
        std::memcpy(dst + (2 * i) * unit_bytes, a.data + i * unit_bytes, unit_bytes);
        std::memcpy(dst + (2 * i + 1) * unit_bytes, b.data + i * unit_bytes, unit_bytes);
      }
    });
  }
};

// The rename of a tensor (unchanged bytes) in Ollama's names; the name itself when unchanged.
inline std::string ollama_tensor_name(const std::string& name) {
  const std::pair<const char*, const char*> renames[] = {{".attn_output.", ".attn_out."},
                                                         {".attn_sinks.weight", ".attn_sinks"},
                                                         {".post_attention_norm.", ".ffn_norm."}};
  for (const auto& [from, to] : renames) {
    const size_t at = name.find(from);
    if (at != std::string::npos) return name.substr(0, at) + to + name.substr(at + std::strlen(from));
  }
  return name;
}

// layout: "split", "fused" or "openai-mxfp4" (above).
inline void write_ollama_gpt_oss(const hearth::gguf::File& src, const std::string& out_path, const std::string& layout) {
  const bool fused = layout != "split";
  OllamaWriter o;
  o.openai_mxfp4 = layout == "openai-mxfp4";
  for (const auto& [key, value] : src.metadata()) {
    if (key == "general.architecture") {
      o.w.set_string(key, "gptoss");
    } else if (key.rfind("gpt-oss.", 0) == 0) {
      const std::string rest = key.substr(8);
      if (rest != "expert_feed_forward_length" && rest != "rope.scaling.type") o.w.set("gptoss." + rest, value);
    } else if (key != "general.alignment") {
      o.w.set(key, value);
    }
  }
  auto is = [](const std::string& name, const char* part) { return name.find(part) != std::string::npos; };
  for (const TensorInfo& t : src.tensors()) {
    const std::string& n = t.name;
    if (fused && (is(n, ".attn_q.") || is(n, ".attn_k.") || is(n, ".attn_v."))) {
      if (!is(n, ".attn_q.")) continue;  // written with q
      const std::string k = n.substr(0, n.find(".attn_q.")), what = n.substr(n.find(".attn_q.") + 8);
      o.concat(k + ".attn_qkv." + what, {&t, &src.tensor(k + ".attn_k." + what), &src.tensor(k + ".attn_v." + what)});
    } else if (fused && (is(n, ".ffn_gate_exps.") || is(n, ".ffn_up_exps."))) {
      if (!is(n, ".ffn_gate_exps.")) continue;  // written with the gate
      const std::string k = n.substr(0, n.find(".ffn_gate_exps.")), what = n.substr(n.find(".ffn_gate_exps.") + 15);
      o.interleave(k + ".ffn_gate_up_exps." + what, t, src.tensor(k + ".ffn_up_exps." + what));
    } else {
      o.add(ollama_tensor_name(n), t.type, dims_of(t), t.n_bytes, [&t](uint8_t* dst) { std::memcpy(dst, t.data, t.n_bytes); });
    }
  }
  o.w.write(out_path);
}

}  // namespace random_gguf
