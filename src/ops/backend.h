#pragma once
// The compute backend the model code runs on. model/ calls only these operations, with shapes in
// elements, so another backend (e.g. CUDA with weights resident in device memory, where a Matrix's
// data would be a device pointer bound at load) can be added without touching the model's math.
// The CPU backend forwards to the free functions of ops/ (each with its _ref specification).

#include <cstdint>
#include <memory>

#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/matrix.h"
#include "ops/rope.h"

namespace hearth::ops {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // y [n_tok, w.n_rows] = x [n_tok, w.n_cols] W^T
  virtual void matmul(const Matrix& w, const float* x, int64_t n_tok, float* y) const = 0;
  // Several matmuls of the same x (one pass; see ops/matmul.h).
  virtual void matmul_many(const MatmulOut* outs, int count, const float* x, int64_t n_tok) const = 0;
  // Called once per weight matrix at load: the backend may move or repack it (w then describes
  // the new copy) and returns what owns that copy, to be kept as long as w is used.
  virtual std::shared_ptr<void> prepare(Matrix& w) const = 0;
  // out [n, w.n_cols] = rows ids[0..n) of w, as float (embedding lookup)
  virtual void get_rows(const Matrix& w, const int32_t* ids, int64_t n, float* out) const = 0;
  // x, out [n_rows, n]; w [n] or null
  virtual void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps,
                       float* out) const = 0;
  // x [n_tok, n_heads * head_dim]; token t rotated at pos[t]
  virtual void rope(float* x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
                    const RopeParams& p) const = 0;
  virtual void attention(const AttentionShape& shape, const AttentionRow* rows,
                         int64_t n_rows) const = 0;
  // out = silu(gate) * up, n elements
  virtual void swiglu(const float* gate, const float* up, int64_t n, float* out) const = 0;
  // y += x, n elements
  virtual void add(float* y, const float* x, int64_t n) const = 0;
  // x [n_rows, n] += b [n] per row
  virtual void add_bias(float* x, const float* b, int64_t n_rows, int64_t n) const = 0;
};

// The process-wide CPU backend (threads: global_thread_pool()).
const Backend& cpu_backend();

}  // namespace hearth::ops
