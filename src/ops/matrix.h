#pragma once
// A weight matrix as the ops see it: row-major [n_rows, n_cols] in one GGUF element type, each row
// a whole number of quant blocks. It only views memory (the mapped file); it owns nothing.

#include <cstdint>

#include "gguf/ggml_type.h"

namespace hearth::quant {
struct PackedKernels;
}

namespace hearth::ops {

struct Matrix {
  gguf::GgmlType type = gguf::GgmlType::F32;
  int64_t n_cols = 0;     // ne[0]: elements per row, the input dimension of y = W x
  int64_t n_rows = 0;     // ne[1]: the output dimension
  int64_t row_bytes = 0;  // bytes between rows
  const uint8_t* data = nullptr;
  // The same rows repacked into 16-row panels (quant/packed.h) by pack_matrix, when this CPU has
  // panel kernels for the type; matmul then reads these instead of data. Panel p starts at
  // packed + p * kPanelRows * row_bytes.
  const uint8_t* packed = nullptr;
  const quant::PackedKernels* panels = nullptr;

  const uint8_t* row(int64_t r) const { return data + r * row_bytes; }
  bool empty() const { return data == nullptr; }
};

}  // namespace hearth::ops
