// The CPU backend: the free functions of ops/ behind the Backend interface.

#include "ops/activation.h"
#include "ops/backend.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {

class CpuBackend final : public Backend {
 public:
  const char* name() const override { return "cpu"; }

  void matmul(const Matrix& w, const float* x, int64_t n_tok, float* y) const override {
    ops::matmul(w, x, n_tok, y);
  }

  void matmul_many(const MatmulOut* outs, int count, const float* x, int64_t n_tok) const override {
    ops::matmul_many(outs, count, x, n_tok);
  }

  std::shared_ptr<void> prepare(Matrix& w) const override { return pack_matrix(w); }

  void get_rows(const Matrix& w, const int32_t* ids, int64_t n, float* out) const override {
    for (int64_t i = 0; i < n; ++i) dequantize_row(w, ids[i], out + i * w.n_cols);
  }

  // rmsnorm, rope_batch, attention, swiglu and the adds split big batches over the pool themselves.
  void rmsnorm(const float* x, const float* w, int64_t n_rows, int64_t n, float eps,
               float* out) const override {
    ops::rmsnorm(x, w, n_rows, n, eps, out);
  }

  void rope(float* x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
            const RopeParams& p) const override {
    ops::rope_batch(x, n_tok, n_heads, head_dim, pos, p);
  }

  void attention(const AttentionShape& shape, const AttentionRow* rows,
                 int64_t n_rows) const override {
    ops::attention(shape, rows, n_rows);
  }

  void swiglu(const float* gate, const float* up, int64_t n, float* out) const override {
    ops::swiglu(gate, up, n, out);
  }

  void add(float* y, const float* x, int64_t n) const override { add_inplace(y, x, n); }

  void add_bias(float* x, const float* b, int64_t n_rows, int64_t n) const override {
    add_bias_rows(x, b, n_rows, n);
  }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace hearth::ops
