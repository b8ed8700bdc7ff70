#pragma once
// y = x W^T for a batch of activation rows: x [n_tok, n_cols] (f32), W [n_rows, n_cols] (any
// supported GGUF type), y [n_tok, n_rows]. Each activation row is quantized ONCE to the format the
// weight's kernels read (the panel kernels' when W is packed, else vec_dot_type); every output is
// then computed by exactly one kernel call. Output rows are split across the global thread pool
// (never a reduction), so y does not depend on the thread count. Decode is n_tok = 1 (matvec);
// prompt processing passes the whole batch so each weight row is read once per 64 tokens.

#include <cstdint>
#include <memory>

#include "ops/matrix.h"

namespace hearth {
class StreamArena;
}

namespace hearth::ops {

void matmul(const Matrix& w, const float* x, int64_t n_tok, float* y);

// Several products of the same input (q, k, v; gate, up) in one pass over the thread pool: the
// input is quantized once per activation format, and one fork-join serves them all. All w share
// n_cols; each y [n_tok, w->n_rows]. A product may name its own input x [n_tok, n_cols] instead
// (one decode token's experts, each reading its own row), quantized for it alone.
struct MatmulOut {
  const Matrix* w;
  float* y;
  const float* x = nullptr;  // null: the shared x
};
void matmul_many(const MatmulOut* outs, int count, const float* x, int64_t n_tok);

// The specification: weights dequantized to float, activations NOT quantized, sums in double.
// It differs from matmul by the activation quantization error (tests bound it per type).
void matmul_ref(const Matrix& w, const float* x, int64_t n_tok, float* y);

// One row of W as floats (embedding lookup): out [n_cols].
void dequantize_row(const Matrix& w, int64_t row, float* out);

// Repacks w into 16-row panels (quant/packed.h) when this CPU has panel kernels for its type, the
// row count is a multiple of 16, and HEARTH_REPACK is not 0: sets w.packed and w.panels and returns
// the owner of the new memory (keep it while w is used), else returns null and leaves w as is.
// Panels take as many bytes as the rows (the caller may release the rows' pages). With an arena,
// the panels are carved from it (a model's matrices packed one after another, in huge pages).
std::shared_ptr<void> pack_matrix(Matrix& w, StreamArena* arena = nullptr);

// Whether matmul can run this weight type.
bool matmul_supports(gguf::GgmlType type);

}  // namespace hearth::ops
