// Panel gemms (quant/packed.h) against the row kernels, one thread, weights held in L2 (compute
// bound): 16 panels of 4096 columns, times 1 activation column (decode) or 64 (a prompt block).
// Counter MAC/s = weight elements x columns per second.
//   build/bench/hearth_bench --benchmark_filter='panel|rows'

#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "quant/packed.h"
#include "quant/type_traits.h"
#include "util/stream_memory.h"

namespace hearth::quant {
namespace {

using G = GgmlType;

constexpr int64_t kCols = 4096, kPanels = 16, kRows = kPanels * kPanelRows;

struct Data {
  std::vector<uint8_t> rows, panels, act_rows, act_panel;
  int64_t row_bytes = 0, act_row_bytes = 0, act_panel_bytes = 0;
};

Data make(G type, int n_tok, int64_t cols = kCols) {
  const TypeTraits& t = traits(type);
  const PackedKernels* pk = packed_kernels(type);
  Data d;
  d.row_bytes = cols / t.block_elems * t.block_bytes;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(cols * kRows)), x(static_cast<size_t>(cols * n_tok));
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  d.rows.resize(static_cast<size_t>(d.row_bytes * kRows));
  t.from_float(w.data(), d.rows.data(), cols * kRows);
  d.panels.resize(d.rows.size());
  for (int64_t p = 0; p < kPanels; ++p) {
    pk->pack(d.rows.data() + p * kPanelRows * d.row_bytes, d.row_bytes, cols, d.panels.data() + p * kPanelRows * d.row_bytes);
  }
  const TypeTraits& at = traits(t.vec_dot_type);
  d.act_row_bytes = cols / at.block_elems * at.block_bytes;
  d.act_rows.resize(static_cast<size_t>(d.act_row_bytes * n_tok));
  d.act_panel_bytes = pk->act_row_bytes(cols);
  d.act_panel.resize(static_cast<size_t>(d.act_panel_bytes * n_tok));
  for (int c = 0; c < n_tok; ++c) {
    at.from_float(x.data() + c * cols, d.act_rows.data() + c * d.act_row_bytes, cols);
    pk->quantize_act(x.data() + c * cols, d.act_panel.data() + c * d.act_panel_bytes, cols);
  }
  return d;
}

void panel(benchmark::State& state, G type, int n_tok) {
  if (packed_kernels(type) == nullptr) {
    state.SkipWithError("no panel kernels on this CPU");
    return;
  }
  const Data d = make(type, n_tok);
  const PackedKernels* pk = packed_kernels(type);
  std::vector<float> y(static_cast<size_t>(kRows * n_tok));
  for (auto _ : state) {
    // Two panels per call, as a matmul task takes them.
    for (int64_t p = 0; p < kPanels; p += 2) {
      pk->gemm(kCols, d.panels.data() + p * kPanelRows * d.row_bytes, 2, d.act_panel.data(), d.act_panel_bytes, n_tok,
               y.data() + p * kPanelRows, kRows);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kCols * kRows * n_tok),
                                               benchmark::Counter::kIsRate);
}

void rows(benchmark::State& state, G type, int n_tok) {
  const Data d = make(type, n_tok);
  const TypeTraits& t = traits(type);
  std::vector<float> y(static_cast<size_t>(kRows * n_tok));
  for (auto _ : state) {
    for (int64_t c = 0; c < n_tok; c += kTileCols) {
      for (int64_t r = 0; r < kRows; r += kTileRows) {
        t.vec_dot_tile(kCols, d.rows.data() + r * d.row_bytes, d.row_bytes, kTileRows,
                       d.act_rows.data() + c * d.act_row_bytes, d.act_row_bytes,
                       static_cast<int>(std::min<int64_t>(kTileCols, n_tok - c)), y.data() + c * kRows + r, kRows);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kCols * kRows * n_tok),
                                               benchmark::Counter::kIsRate);
}

// Decode from memory: 256 MiB of panels (far beyond the caches), one column; bytes/s is the
// figure to compare with the machine's read bandwidth.
void panel_memory(benchmark::State& state, G type, int64_t cols = kCols) {
  const PackedKernels* pk = packed_kernels(type);
  if (pk == nullptr) {
    state.SkipWithError("no panel kernels on this CPU");
    return;
  }
  const Data d = make(type, 1, cols);
  const int64_t panel_bytes = kPanelRows * d.row_bytes;
  const int64_t copies = (int64_t{256} << 20) / static_cast<int64_t>(d.panels.size());
  // The memory the loader gives repacked weights (huge pages unless HEARTH_HUGE_PAGES=0).
  const size_t big_bytes = static_cast<size_t>(copies) * d.panels.size();
  StreamMemory mem = alloc_stream_memory(big_bytes);
  if (mem == nullptr) {
    state.SkipWithError("cannot allocate 256 MiB");
    return;
  }
  auto* big = static_cast<uint8_t*>(mem.get());
  for (int64_t c = 0; c < copies; ++c) std::copy(d.panels.begin(), d.panels.end(), big + c * d.panels.size());
  const int64_t n_panels = static_cast<int64_t>(big_bytes) / panel_bytes;
  std::vector<float> y(static_cast<size_t>(n_panels * kPanelRows));
  for (auto _ : state) {
    for (int64_t p = 0; p < n_panels; ++p) {
      pk->gemm(cols, big + p * panel_bytes, 1, d.act_panel.data(), d.act_panel_bytes, 1, y.data() + p * kPanelRows, 0);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(big_bytes));
}
BENCHMARK_CAPTURE(panel_memory, q4_K, G::Q4_K)->Unit(benchmark::kMillisecond);
// Rows as long as the 1.5B shape's (1536 columns: q, k, v, o, gate, up; 8960: down).
BENCHMARK_CAPTURE(panel_memory, q4_K_1536, G::Q4_K, 1536)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(panel_memory, q4_K_8960, G::Q4_K, 8960)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(panel_memory, q6_K_1536, G::Q6_K, 1536)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(panel_memory, q6_K, G::Q6_K)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(panel_memory, q8_0, G::Q8_0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(panel_memory, q5_0, G::Q5_0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(panel_memory, q4_0, G::Q4_0)->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(panel, q4_K_x1, G::Q4_K, 1);
BENCHMARK_CAPTURE(panel, q4_K_x64, G::Q4_K, 64);
BENCHMARK_CAPTURE(rows, q4_K_x1, G::Q4_K, 1);
BENCHMARK_CAPTURE(rows, q4_K_x64, G::Q4_K, 64);
BENCHMARK_CAPTURE(panel, q6_K_x1, G::Q6_K, 1);
BENCHMARK_CAPTURE(panel, q6_K_x64, G::Q6_K, 64);
BENCHMARK_CAPTURE(rows, q6_K_x1, G::Q6_K, 1);
BENCHMARK_CAPTURE(rows, q6_K_x64, G::Q6_K, 64);
BENCHMARK_CAPTURE(panel, q8_0_x1, G::Q8_0, 1);
BENCHMARK_CAPTURE(panel, q8_0_x64, G::Q8_0, 64);
BENCHMARK_CAPTURE(rows, q8_0_x1, G::Q8_0, 1);
BENCHMARK_CAPTURE(rows, q8_0_x64, G::Q8_0, 64);
BENCHMARK_CAPTURE(panel, q5_0_x1, G::Q5_0, 1);
BENCHMARK_CAPTURE(panel, q5_0_x64, G::Q5_0, 64);
BENCHMARK_CAPTURE(rows, q5_0_x1, G::Q5_0, 1);
BENCHMARK_CAPTURE(rows, q5_0_x64, G::Q5_0, 64);
BENCHMARK_CAPTURE(panel, q4_0_x1, G::Q4_0, 1);
BENCHMARK_CAPTURE(panel, q4_0_x64, G::Q4_0, 64);
BENCHMARK_CAPTURE(rows, q4_0_x1, G::Q4_0, 1);
BENCHMARK_CAPTURE(rows, q4_0_x64, G::Q4_0, 64);

}  // namespace
}  // namespace hearth::quant
