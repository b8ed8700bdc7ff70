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
//     ffn_gate_up_exps.{weight,bias} whose rows (bias values) alternate gate and up per expert.
// A header of random_gguf.cc (each tools/*.cc is an executable of its own).

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace random_gguf {

using hearth::gguf::TensorInfo;

inline std::vector<int64_t> dims_of(const TensorInfo& t) { return std::vector<int64_t>(t.ne, t.ne + t.n_dims); }

// Rows of the same type stacked in order: [a; b; c] (matrices or vectors).
inline void add_concat(hearth::gguf::Writer& w, const std::string& name, const std::vector<const TensorInfo*>& parts) {
  std::vector<int64_t> ne = dims_of(*parts[0]);
  const int axis = parts[0]->n_dims - 1;  // rows (matrices) or values (vectors)
  ne[axis] = 0;
  size_t bytes = 0;
  for (const TensorInfo* t : parts) {
    if (t->type != parts[0]->type || t->n_dims != parts[0]->n_dims || (axis > 0 && t->ne[0] != parts[0]->ne[0])) {
      throw hearth::Error(hearth::ErrorCode::invalid_argument,
                          "--ollama-layout fused: " + t->name + " differs in type or row length from " + parts[0]->name);
    }
    ne[axis] += t->ne[axis];
    bytes += t->n_bytes;
  }
  w.add_tensor_generated(name, parts[0]->type, ne, bytes, [parts](uint8_t* dst) {
    for (const TensorInfo* t : parts) dst = static_cast<uint8_t*>(std::memcpy(dst, t->data, t->n_bytes)) + t->n_bytes;
  });
}

// Per expert (outermost dimension), the units (rows of a stack, values of a bias table) of a and b
// alternating: a0 b0 a1 b1 ...
inline void add_interleaved(hearth::gguf::Writer& w, const std::string& name, const TensorInfo& a, const TensorInfo& b) {
  if (a.type != b.type || a.n_bytes != b.n_bytes || a.n_dims != b.n_dims) {
    throw hearth::Error(hearth::ErrorCode::invalid_argument,
                        "--ollama-layout fused: " + a.name + " and " + b.name + " differ in type or shape");
  }
  std::vector<int64_t> ne = dims_of(a);
  const int unit_axis = a.n_dims - 2;  // rows of each expert's matrix, or a bias row's values
  const int64_t n_mats = ne.back(), n_units = ne[unit_axis];
  const size_t unit_bytes = a.n_bytes / static_cast<size_t>(n_mats * n_units);
  ne[unit_axis] *= 2;
  w.add_tensor_generated(name, a.type, ne, 2 * a.n_bytes, [&a, &b, n_mats, n_units, unit_bytes](uint8_t* dst) {
    for (int64_t i = 0; i < n_mats * n_units; ++i) {
      std::memcpy(dst + (2 * i) * unit_bytes, a.data + i * unit_bytes, unit_bytes);
      std::memcpy(dst + (2 * i + 1) * unit_bytes, b.data + i * unit_bytes, unit_bytes);
    }
  });
}

// The rename of a tensor (unchanged bytes) in Ollama's names; "" when fused away or unchanged.
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

inline void write_ollama_gpt_oss(const hearth::gguf::File& src, const std::string& out_path, bool fused) {
  hearth::gguf::Writer w;
  for (const auto& [key, value] : src.metadata()) {
    if (key == "general.architecture") {
      w.set_string(key, "gptoss");
    } else if (key.rfind("gpt-oss.", 0) == 0) {
      const std::string rest = key.substr(8);
      if (rest != "expert_feed_forward_length" && rest != "rope.scaling.type") w.set("gptoss." + rest, value);
    } else if (key != "general.alignment") {
      w.set(key, value);
    }
  }
  auto is = [](const std::string& name, const char* part) { return name.find(part) != std::string::npos; };
  for (const TensorInfo& t : src.tensors()) {
    const std::string& n = t.name;
    if (fused && (is(n, ".attn_q.") || is(n, ".attn_k.") || is(n, ".attn_v."))) {
      if (!is(n, ".attn_q.")) continue;  // written with q
      const std::string k = n.substr(0, n.find(".attn_q.")), what = n.substr(n.find(".attn_q.") + 8);
      add_concat(w, k + ".attn_qkv." + what,
                 {&t, &src.tensor(k + ".attn_k." + what), &src.tensor(k + ".attn_v." + what)});
    } else if (fused && (is(n, ".ffn_gate_exps.") || is(n, ".ffn_up_exps."))) {
      if (!is(n, ".ffn_gate_exps.")) continue;  // written with the gate
      const std::string k = n.substr(0, n.find(".ffn_gate_exps.")), what = n.substr(n.find(".ffn_gate_exps.") + 15);
      add_interleaved(w, k + ".ffn_gate_up_exps." + what, t, src.tensor(k + ".ffn_up_exps." + what));
    } else {
      w.add_tensor_view(ollama_tensor_name(n), t.type, dims_of(t), t.data, t.n_bytes);
    }
  }
  w.write(out_path);
}

}  // namespace random_gguf
