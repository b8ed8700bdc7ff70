#include "ops/matmul.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "quant/type_traits.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {
// Rows per task: small enough to balance a decode step's matvec over the threads, large enough
// that the per-task overhead stays far below the work.
constexpr int64_t kRowsPerTask = 16;
static_assert(kRowsPerTask % quant::kTileRows == 0, "tiles must not straddle tasks");
// Below this many multiply-adds a fork-join costs more than the work: run on the calling thread.
// Every output is computed the same way either way, so this does not change results.
constexpr int64_t kMinParallelWork = 16384;

void run_tasks(int64_t n_tasks, int64_t work, const std::function<void(int64_t, int)>& fn) {
  if (work < kMinParallelWork) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i, 0);
  } else {
    global_thread_pool().run(n_tasks, fn);
  }
}
}  // namespace

bool matmul_supports(gguf::GgmlType type) {
  if (!quant::is_supported(type)) return false;
  const quant::TypeTraits& t = quant::traits(type);
  return t.vec_dot != nullptr && quant::is_supported(t.vec_dot_type) &&
         quant::traits(t.vec_dot_type).from_float != nullptr;
}

void matmul(const Matrix& w, const float* x, int64_t n_tok, float* y) {
  const quant::TypeTraits& wt = quant::traits(w.type);
  const quant::TypeTraits& at = quant::traits(wt.vec_dot_type);
  const int64_t act_row_bytes = w.n_cols / at.block_elems * at.block_bytes;
  static thread_local std::vector<uint8_t> act;
  act.resize(static_cast<size_t>(act_row_bytes * n_tok));
  uint8_t* xq = act.data();
  if (n_tok == 1) {
    at.from_float(x, xq, w.n_cols);
  } else {
    run_tasks(n_tok, n_tok * w.n_cols, [&](int64_t t, int) {
      at.from_float(x + t * w.n_cols, xq + t * act_row_bytes, w.n_cols);
    });
  }
  const int64_t n_tasks = (w.n_rows + kRowsPerTask - 1) / kRowsPerTask;
  const auto vec_dot = wt.vec_dot;
  const auto tile = wt.vec_dot_tile;
  run_tasks(n_tasks, w.n_rows * w.n_cols * n_tok, [&](int64_t task, int) {
    const int64_t r0 = task * kRowsPerTask;
    const int64_t r1 = std::min(w.n_rows, r0 + kRowsPerTask);
    if (tile != nullptr && n_tok > 1) {
      // Tiles of kTileRows weight rows x kTileCols tokens: each weight block is loaded once per
      // tile instead of once per token. Tile boundaries depend only on the shapes.
      for (int64_t t = 0; t < n_tok; t += quant::kTileCols) {
        const int nc = static_cast<int>(std::min<int64_t>(quant::kTileCols, n_tok - t));
        for (int64_t r = r0; r < r1; r += quant::kTileRows) {
          const int nr = static_cast<int>(std::min<int64_t>(quant::kTileRows, r1 - r));
          tile(w.n_cols, w.row(r), w.row_bytes, nr, xq + t * act_row_bytes, act_row_bytes, nc,
               y + t * w.n_rows + r, w.n_rows);
        }
      }
      return;
    }
    for (int64_t t = 0; t < n_tok; ++t) {
      const uint8_t* a = xq + t * act_row_bytes;
      float* yt = y + t * w.n_rows;
      for (int64_t r = r0; r < r1; ++r) yt[r] = vec_dot(w.n_cols, w.row(r), a);
    }
  });
}

void matmul_ref(const Matrix& w, const float* x, int64_t n_tok, float* y) {
  const quant::TypeTraits& wt = quant::traits(w.type);
  std::vector<float> row(static_cast<size_t>(w.n_cols));
  for (int64_t r = 0; r < w.n_rows; ++r) {
    wt.to_float(w.row(r), row.data(), w.n_cols);
    for (int64_t t = 0; t < n_tok; ++t) {
      double acc = 0.0;
      for (int64_t i = 0; i < w.n_cols; ++i) {
        acc += static_cast<double>(row[i]) * x[t * w.n_cols + i];
      }
      y[t * w.n_rows + r] = static_cast<float>(acc);
    }
  }
}

void dequantize_row(const Matrix& w, int64_t row, float* out) {
  quant::traits(w.type).to_float(w.row(row), out, w.n_cols);
}

}  // namespace hearth::ops
