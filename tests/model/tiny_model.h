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

struct TinySpec {
  std::string arch = "llama";  // llama | qwen2 | qwen3 | qwen3moe
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
  gguf::GgmlType weight_type = gguf::GgmlType::F32;  // layer matrices
  gguf::GgmlType embd_type = gguf::GgmlType::F32;    // token_embd
  gguf::GgmlType output_type = gguf::GgmlType::F32;  // output.weight
  uint64_t seed = 1;
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

 private:
  double uniform();
  gguf::Writer& writer_;
  RefWeights& weights_;
  uint64_t state_;
  std::string skip_;
};

// Returns the GGUF file bytes; fills `weights` with what the file holds, dequantized.
std::vector<uint8_t> write_tiny_model(const TinySpec& spec, RefWeights* weights);

// Plain double-precision forward, one token at a time, KV in double.
class RefModel {
 public:
  RefModel(const TinySpec& spec, const RefWeights& weights);
  // Feeds `token` at the next position; returns n_vocab logits.
  std::vector<double> step(int32_t token);

 private:
  const RefTensor& w(const std::string& name) const;
  std::vector<double> matvec(const std::string& name, const std::vector<double>& x) const;
  // x times expert e's matrix of a stacked [n_expert, rows, cols] tensor.
  std::vector<double> expert_matvec(const std::string& name, int e, const std::vector<double>& x) const;

  TinySpec s_;
  const RefWeights& w_;
  int64_t pos_ = 0;
  std::vector<std::vector<double>> k_cache_, v_cache_;  // [layer] -> [pos * kv_width]
};

// Relative L2 error ||a - b|| / ||b||.
double rel_error(const float* a, const std::vector<double>& b);

}  // namespace hearth::model::testing
