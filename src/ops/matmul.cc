#include "ops/matmul.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "quant/packed.h"
#include "quant/type_traits.h"
#include "util/check.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {
// Rows per task: one panel; small enough to balance a decode step's matvec over the threads,
// large enough that the per-task overhead stays far below the work.
constexpr int64_t kRowsPerTask = quant::kPanelRows;
static_assert(kRowsPerTask % quant::kTileRows == 0, "tiles must not straddle tasks");
// Prompt columns per task: the activations of one column block stay in L2 while the panels of
// every task stream past them. A multiple of 4 (the kernels' column step), so chunking inside a
// task does not depend on where the block starts.
constexpr int64_t kColsPerTask = 64;
// Below this many multiply-adds a fork-join costs more than the work: run on the calling thread.
// Every output is computed the same way either way, so this does not change results.
constexpr int64_t kMinParallelWork = 16384;
// Tasks per thread a decode matmul aims at: enough to balance, few enough to keep the shared task
// counter quiet and each task a long stream. 24 -> 8, hearth bench -p 0 -n 64 -t 2, alternated:
// 1.5B Q4_K_M 22.23, 22.44, 22.94 -> 22.98, 23.23, 23.90 t/s; Qwen3-A3B x12 31.97, 32.08 -> 33.03,
// 32.99; beside a busy loop (a worker losing its core mid-task holds the step up, so long tasks
// cost there) 10.94, 11.31 -> 11.14, 10.68. Fewer still (guided tasks, each 1/(2 x threads) of
// what is left) won 1 % idle and lost 4 % beside the busy loop.
constexpr int64_t kTasksPerThread = 8;
// From this many tokens, float weights go through the chunked tiles (quant::TypeTraits::
// chunked_tile): each task converts its weight rows to F32 once and every column reuses them.
// Below it (decode) the conversion would cost as much as the products. Both paths give the row
// dot's bits, so the choice never changes a result.
constexpr int64_t kChunkedMinTokens = 8;

void run_tasks(int64_t n_tasks, int64_t work, const std::function<void(int64_t, int)>& fn,
               ThreadPool::Claims claims = ThreadPool::Claims::kShared) {
  if (work < kMinParallelWork) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i, 0);
  } else {
    global_thread_pool().run(n_tasks, fn, claims);
  }
}

// How one matrix's activations are laid out: the row format its kernels read.
struct ActFormat {
  void (*quantize)(const float*, void*, int64_t) = nullptr;
  int64_t row_bytes = 0;
};

bool use_chunked(const Matrix& w, int64_t n_tok) {
  return w.packed == nullptr && n_tok >= kChunkedMinTokens && quant::traits(w.type).chunked_tile != nullptr;
}

void chunk_major_act(const float* src, void* dst, int64_t n) {
  quant::to_chunk_major(src, static_cast<float*>(dst), n);
}

ActFormat act_format(const Matrix& w, int64_t n_tok) {
  if (w.panels != nullptr) return {w.panels->quantize_act, w.panels->act_row_bytes(w.n_cols)};
  if (use_chunked(w, n_tok)) return {chunk_major_act, w.n_cols * static_cast<int64_t>(sizeof(float))};
  const quant::TypeTraits& at = quant::traits(quant::traits(w.type).vec_dot_type);
  return {at.from_float, w.n_cols / at.block_elems * at.block_bytes};
}

// Rows [r0, r1) of one output for n_tok chunk-major activation rows (use_chunked): the rows are
// converted to F32 in chunk-major order once, into this thread's buffer, then tiles of
// kChunkTileCols tokens x kChunkTileRows rows run over them, tokens outer (the kernel keeps a
// tile's activations in L1 while the converted rows stream past).
void rows_chunked(const Matrix& w, const float* x, int64_t n_tok, int64_t r0, int64_t r1, float* y) {
  const quant::TypeTraits& wt = quant::traits(w.type);
  const int64_t n = w.n_cols;
  static thread_local std::vector<float> rows, plain;
  rows.resize(static_cast<size_t>((r1 - r0) * n));
  plain.resize(static_cast<size_t>(n));
  for (int64_t r = r0; r < r1; ++r) {
    wt.to_float(w.row(r), plain.data(), n);
    quant::to_chunk_major(plain.data(), rows.data() + (r - r0) * n, n);
  }
  for (int64_t t = 0; t < n_tok; t += quant::kChunkTileCols) {
    const int nc = static_cast<int>(std::min<int64_t>(quant::kChunkTileCols, n_tok - t));
    for (int64_t r = r0; r < r1; r += quant::kChunkTileRows) {
      const int nr = static_cast<int>(std::min<int64_t>(quant::kChunkTileRows, r1 - r));
      wt.chunked_tile(n, rows.data() + (r - r0) * n, n, nr, x + t * n, n, nc, y + t * w.n_rows + r, w.n_rows);
    }
  }
}

// Rows [r0, r1) of one output for n_tok activation rows, through the row kernels.
void rows_unpacked(const Matrix& w, const uint8_t* xq, int64_t act_row_bytes, int64_t n_tok, int64_t r0,
                   int64_t r1, float* y) {
  const quant::TypeTraits& wt = quant::traits(w.type);
  if (wt.vec_dot_tile != nullptr) {
    // Tiles of kTileRows weight rows x kTileCols tokens: each weight block is loaded once per
    // tile instead of once per token. Tile boundaries depend only on the shapes, and a tile gives
    // the same bits as the row dots.
    for (int64_t t = 0; t < n_tok; t += quant::kTileCols) {
      const int nc = static_cast<int>(std::min<int64_t>(quant::kTileCols, n_tok - t));
      for (int64_t r = r0; r < r1; r += quant::kTileRows) {
        const int nr = static_cast<int>(std::min<int64_t>(quant::kTileRows, r1 - r));
        wt.vec_dot_tile(w.n_cols, w.row(r), w.row_bytes, nr, xq + t * act_row_bytes, act_row_bytes, nc,
                        y + t * w.n_rows + r, w.n_rows);
      }
    }
    return;
  }
  for (int64_t t = 0; t < n_tok; ++t) {
    const uint8_t* a = xq + t * act_row_bytes;
    float* yt = y + t * w.n_rows;
    for (int64_t r = r0; r < r1; ++r) yt[r] = wt.vec_dot(w.n_cols, w.row(r), a);
  }
}

// A task list over several outputs: task k of output i covers one row group and one column block.
struct Job {
  const Matrix* w;
  float* y;
  bool chunked;  // use_chunked: its activations are chunk-major floats
  int format;  // index into the activation buffers; -1: the job's own input
  const uint8_t* xq;
  int64_t act_row_bytes;
  int64_t rows_per_task;  // a multiple of kRowsPerTask
  int64_t n_row_groups;
  int64_t first_task;
};

}  // namespace

bool matmul_supports(gguf::GgmlType type) {
  if (!quant::is_supported(type)) return false;
  const quant::TypeTraits& t = quant::traits(type);
  return t.vec_dot != nullptr && quant::is_supported(t.vec_dot_type) &&
         quant::traits(t.vec_dot_type).from_float != nullptr;
}

void matmul_many(const MatmulOut* outs, int count, const float* x, int64_t n_tok) {
  if (count <= 0 || n_tok <= 0) return;
  const int64_t n_cols = outs[0].w->n_cols;
  // Activations quantized once per distinct row format (q, k and v usually share one).
  static thread_local std::vector<uint8_t> act[4], own;
  ActFormat formats[4];
  int n_formats = 0;
  std::vector<Job> jobs(static_cast<size_t>(count));
  std::vector<size_t> own_offset(static_cast<size_t>(count), 0);
  size_t own_bytes = 0;
  const int64_t col_blocks = (n_tok + kColsPerTask - 1) / kColsPerTask;
  int64_t n_tasks = 0, work = 0;
  for (int i = 0; i < count; ++i) {
    const Matrix& w = *outs[i].w;
    HEARTH_CHECK(w.n_cols == n_cols);
    const ActFormat f = act_format(w, n_tok);
    Job& j = jobs[static_cast<size_t>(i)];
    j.chunked = use_chunked(w, n_tok);
    j.format = -1;
    if (outs[i].x != nullptr) {
      own_offset[static_cast<size_t>(i)] = own_bytes;
      own_bytes += static_cast<size_t>(f.row_bytes * n_tok);
    } else {
      int k = 0;
      while (k < n_formats && formats[k].quantize != f.quantize) ++k;
      if (k == n_formats) {
        HEARTH_CHECK(n_formats < 4);  // three activation formats exist
        formats[n_formats++] = f;
      }
      j.format = k;
    }
    j.w = &w;
    j.y = outs[i].y;
    j.act_row_bytes = f.row_bytes;
    j.rows_per_task = kRowsPerTask;
    work += w.n_rows * w.n_cols * n_tok;
  }
  // Decode has one column block: group panels so that each thread takes a few dozen tasks, not
  // hundreds (every task is an atomic increment on a line the threads share). Grouping never
  // changes how a row is computed, so results stay independent of the thread count.
  int64_t panels = 0;
  for (const Job& j : jobs) panels += (j.w->n_rows + kRowsPerTask - 1) / kRowsPerTask;
  const int64_t target = static_cast<int64_t>(global_thread_pool().size()) * kTasksPerThread;
  const int64_t group = col_blocks * panels > target ? std::max<int64_t>(1, panels / target) : 1;
  for (Job& j : jobs) {
    // Prompt tasks take two panels: kernels can share each activation load between them.
    j.rows_per_task = kRowsPerTask * (col_blocks == 1 ? group : 2);
    j.n_row_groups = (j.w->n_rows + j.rows_per_task - 1) / j.rows_per_task;
    j.first_task = n_tasks;
    n_tasks += j.n_row_groups * col_blocks;
  }
  for (int k = 0; k < n_formats; ++k) {
    act[k].resize(static_cast<size_t>(formats[k].row_bytes * n_tok));
    uint8_t* xq = act[k].data();
    const ActFormat f = formats[k];
    run_tasks(n_tok, n_tok * n_cols, [&](int64_t t, int) { f.quantize(x + t * n_cols, xq + t * f.row_bytes, n_cols); });
  }
  own.resize(own_bytes);
  for (int i = 0; i < count; ++i) {
    Job& j = jobs[static_cast<size_t>(i)];
    if (j.format >= 0) {
      j.xq = act[j.format].data();
      continue;
    }
    const ActFormat f = act_format(*j.w, n_tok);
    uint8_t* xq = own.data() + own_offset[static_cast<size_t>(i)];
    for (int64_t t = 0; t < n_tok; ++t) f.quantize(outs[i].x + t * n_cols, xq + t * f.row_bytes, n_cols);
    j.xq = xq;
  }

  // Decode: each thread streams its own consecutive panels (hearth bench r1-1.5b-q4_K_M -p 0 -n 64
  // -t 2, alternated 5 times: 63.2-65.5 -> 64.9-71.1 t/s; beside a busy loop level, 26.0-26.6 ->
  // 25.9-27.2). Prompts keep the shared order: their threads work through one column block together.
  const ThreadPool::Claims claims =
      col_blocks == 1 ? ThreadPool::Claims::kRangePerThread : ThreadPool::Claims::kShared;
  run_tasks(n_tasks, work, [&](int64_t task, int) {
    size_t i = 0;
    while (i + 1 < jobs.size() && jobs[i + 1].first_task <= task) ++i;
    const Job& j = jobs[i];
    const Matrix& w = *j.w;
    const int64_t local = task - j.first_task;
    // Column-block-major: the threads work through one block of activations together.
    const int64_t cb = local / j.n_row_groups, group = local % j.n_row_groups;
    const int64_t c0 = cb * kColsPerTask, c1 = std::min(n_tok, c0 + kColsPerTask);
    const int64_t r0 = group * j.rows_per_task, r1 = std::min(w.n_rows, r0 + j.rows_per_task);
    const uint8_t* xq = j.xq + c0 * j.act_row_bytes;
    if (j.chunked) {
      rows_chunked(w, reinterpret_cast<const float*>(xq), c1 - c0, r0, r1, j.y + c0 * w.n_rows);
    } else if (w.packed != nullptr) {
      w.panels->gemm(w.n_cols, w.packed + r0 * w.row_bytes, static_cast<int>((r1 - r0) / kRowsPerTask), xq,
                     j.act_row_bytes, static_cast<int>(c1 - c0), j.y + c0 * w.n_rows + r0, w.n_rows);
    } else {
      rows_unpacked(w, xq, j.act_row_bytes, c1 - c0, r0, r1, j.y + c0 * w.n_rows);
    }
  }, claims);
}

void matmul(const Matrix& w, const float* x, int64_t n_tok, float* y) {
  const MatmulOut out{&w, y};
  matmul_many(&out, 1, x, n_tok);
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
