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
  // Rows [row_begin, row_begin + n_rows) of a matrix of ne = [n_cols, n_rows_total], bound as
  // a matrix of their own (one part of a fused matrix: Phi-3's attn_qkv, its gate/up ffn_up).
  // Rows are stored whole, so a part is a plain byte range of the file.
  ops::Tensor matrix_rows(ops::Backend& be, const std::string& name, int64_t n_cols,
                          int64_t n_rows_total, int64_t row_begin, int64_t n_rows) const;
  // A stack of n_mats such matrices (ne = [n_cols, n_rows, n_mats]: experts). A stack stored
  // as Ollama's first MXFP4 (type 4, OpenAI's code order: gpt-oss files of August 2025) is
  // reordered into ggml's MXFP4 in `storage` (which must then outlive the tensor; emptied when
  // the backend copied it); without `storage` it is refused as a type Hearth cannot compute with.
  ops::Tensor stack(ops::Backend& be, const std::string& name, int64_t n_cols, int64_t n_rows,
                    int64_t n_mats, Use use = Use::matmul,
                    std::vector<uint8_t>* storage = nullptr) const;
  // Every `step`-th row of each matrix of a stack of ne = [n_cols, n_rows_total, n_mats], from row
  // `first` (row first + step * i of matrix e becomes row i of matrix e), bound as a stack of
  // n_rows_total / step rows: one part of a stack whose rows interleave two matrices (gpt-oss's
  // ffn_gate_up_exps as Ollama wrote it). The rows are copied into `storage` (Ollama's first
  // MXFP4 reordered as stack() does), which must outlive the tensor (the backend may keep
  // pointing at it); it is emptied when the backend copied them.
  ops::Tensor stack_rows_every(ops::Backend& be, const std::string& name, int64_t n_cols,
                               int64_t n_rows_total, int64_t first, int64_t step, int64_t n_mats,
                               std::vector<uint8_t>& storage) const;
  // A vector of n values (norm weights, biases) as an F32 tensor; empty when `optional` and the
  // file lacks it.
  ops::Tensor vector(ops::Backend& be, const std::string& name, int64_t n,
                     bool optional = false) const;
  // n_rows vectors of n values (ne = [n, n_rows]: per-expert biases) as one F32 [n_rows, n].
  ops::Tensor rows_f32(ops::Backend& be, const std::string& name, int64_t n, int64_t n_rows) const;
  // The same values on the host (small parameter tables such as rope_freqs, attention sinks).
  std::vector<float> host_vector(const std::string& name, int64_t n) const;
  std::vector<float> host_rows(const std::string& name, int64_t n, int64_t n_rows) const;

 private:
  // Checks that `name` has shape ne and a type matmul supports (or, when `reorderable`, Ollama's
  // first MXFP4, which the caller reorders); returns its row size in bytes.
  int64_t check(const std::string& name, const int64_t ne[3], bool reorderable = false) const;
  ops::Tensor upload(ops::Backend& be, const std::string& name, const int64_t ne[3],
                     Use use) const;
  gguf::File& file_;
};

}  // namespace hearth::model
