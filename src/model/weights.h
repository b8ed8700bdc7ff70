#pragma once
// Binds a GGUF file's tensors to a model's weights, checking each one's presence, shape and type
// against the hyperparameters. Errors name the file and the tensor.

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "ops/matrix.h"

namespace hearth::model {

class WeightBinder {
 public:
  explicit WeightBinder(const gguf::File& file) : file_(file) {}

  bool has(const std::string& name) const { return file_.find_tensor(name) != nullptr; }

  // A 2-D matrix of ne = [n_cols, n_rows] whose type matmul supports.
  ops::Matrix matrix(const std::string& name, int64_t n_cols, int64_t n_rows) const;
  // A 1-D vector of n values (norm weights, biases, rope factors), converted to float.
  std::vector<float> vector(const std::string& name, int64_t n) const;
  std::vector<float> vector_or_empty(const std::string& name, int64_t n) const;

  const gguf::TensorInfo& tensor(const std::string& name) const;

 private:
  const gguf::File& file_;
};

}  // namespace hearth::model
