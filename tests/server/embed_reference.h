#pragma once
// An independent plain double-precision forward of a real llama/qwen2 GGUF (adapted from
// tests/model/tiny_model.cc's reference; it shares nothing with src/model or src/ops and only
// dequantizes weights with quant's reference to_float), returning the final normed hidden state
// of each token: what embeddings pool.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"

namespace hearth::testing {

class RefHidden {
 public:
  explicit RefHidden(const std::string& gguf_path);
  int64_t n_embd() const { return n_embd_; }
  // Hidden states (output_norm applied) of every token of `tokens`, run from position 0.
  std::vector<std::vector<double>> run(const std::vector<int32_t>& tokens) const;

 private:
  std::vector<double> dequant(const std::string& name, int64_t first_row, int64_t n_rows) const;
  const std::vector<double>& w(const std::string& name) const;
  std::vector<double> matvec(const std::string& name, const std::vector<double>& x) const;

  gguf::File file_;
  std::string arch_;
  int64_t n_embd_ = 0, n_layer_ = 0, n_head_ = 0, n_head_kv_ = 0, head_dim_ = 0, n_rot_ = 0;
  double rope_base_ = 10000.0, eps_ = 1e-5;
  mutable std::map<std::string, std::vector<double>> cache_;  // dequantized tensors
};

}  // namespace hearth::testing
