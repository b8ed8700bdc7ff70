#pragma once
// Binds a GGUF file's tensors to a model's weights on a backend, checking each one's presence,
// shape and type against the hyperparameters (errors name the file and the tensor). The tensors
// are the backend's; when it copied a weight (repacked panels, device memory), the file's pages
// of it are released, so resident memory holds each weight once.

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "ops/backend.h"

namespace hearth::model {

class WeightLoader {
 public:
  explicit WeightLoader(gguf::File& file) : file_(file) {}

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }
  const gguf::TensorInfo& tensor(const std::string& name) const;

  using Use = ops::Backend::WeightUse;
  // A matrix of ne = [n_cols, n_rows] whose type matmul supports.
  ops::Tensor matrix(ops::Backend& be, const std::string& name, int64_t n_cols, int64_t n_rows,
                     Use use = Use::matmul) const;
  // Rows [first, first + count) of a matrix of ne = [n_cols, n_rows] (one part of a fused
  // projection such as attn_qkv), bound as a matrix of its own.
  ops::Tensor matrix_rows(ops::Backend& be, const std::string& name, int64_t n_cols,
                          int64_t n_rows, int64_t first, int64_t count) const;
  // A stack of n_mats such matrices (ne = [n_cols, n_rows, n_mats]: experts).
  ops::Tensor stack(ops::Backend& be, const std::string& name, int64_t n_cols, int64_t n_rows,
                    int64_t n_mats) const;
  // A vector of n values (norm weights, biases) as an F32 tensor; empty when `optional` and the
  // file lacks it.
  ops::Tensor vector(ops::Backend& be, const std::string& name, int64_t n,
                     bool optional = false) const;
  // The same values on the host (small parameter tables such as rope_freqs).
  std::vector<float> host_vector(const std::string& name, int64_t n) const;

 private:
  ops::Tensor upload(ops::Backend& be, const std::string& name, const int64_t ne[3],
                     Use use, int64_t first_row = 0, int64_t n_rows = -1) const;
  gguf::File& file_;
};

}  // namespace hearth::model
