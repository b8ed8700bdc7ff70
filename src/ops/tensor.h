#pragma once
// A tensor as code above the backends sees it: an element type, a shape, and a handle to storage
// that one Backend owns (host memory for the CPU backend, device memory for a GPU one). Model code
// passes tensors to that backend's operations and never touches their bytes; only the backend
// that made a tensor may resolve its handle. Tensors are values: copying one copies the handle,
// not the data, and the backend frees the storage (Backend::release, or when it is destroyed).
//
// Shape: ne[0] elements per row (n_cols), ne[1] rows, ne[2] matrices (a stack of same-shaped
// matrices: the experts of a mixture-of-experts layer). Row-major, rows of whole quant blocks.

#include <cstdint>

#include "gguf/ggml_type.h"

namespace hearth::ops {

struct Tensor {
  gguf::GgmlType type = gguf::GgmlType::F32;
  int64_t ne[3] = {0, 0, 0};
  int64_t row_bytes = 0;
  void* handle = nullptr;  // the owning backend's record

  int64_t n_cols() const { return ne[0]; }
  int64_t n_rows() const { return ne[1]; }
  int64_t n_mats() const { return ne[2]; }
  int64_t n_elements() const { return ne[0] * ne[1] * ne[2]; }
  bool empty() const { return handle == nullptr; }
};

// A stack's matrices as one matrix of all their rows (matrix i's rows after matrix i - 1's), on
// the same storage: a second name for the stack's bytes, not a copy (release the stack, not
// this). Backends resolve a tensor's storage by its handle and take its rows in this order.
inline Tensor rows_of_stack(Tensor stack) {
  stack.ne[1] *= stack.ne[2];
  stack.ne[2] = 1;
  return stack;
}

}  // namespace hearth::ops
