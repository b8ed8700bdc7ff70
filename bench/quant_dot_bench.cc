// Quant kernels per CPU tier: dot products as a matrix-vector product over a weight matrix held
// in cache (compute bound) or much larger than the caches (memory bound), and the activation
// quantizers. Counters: bytes/s of weights read (dots) or floats read (quantizers).
//   build-<you>/bench/hearth_bench --benchmark_filter='dot_q4_K'

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "quant/type_traits.h"
#include "util/cpu_features.h"

namespace hearth::quant {
namespace {

using G = GgmlType;

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

// y[r] = vec_dot(W row r, x) over `rows` rows of n = 4096 elements.
void bench_matvec(benchmark::State& state, G type, CpuTier tier, int64_t rows) {
  const int64_t n = 4096;
  const TypeTraits& t = traits(type, tier);
  const TypeTraits& act = traits(t.vec_dot_type, tier);
  const int64_t row_bytes = gguf::row_bytes(type, n);
  // Quantize one block of rows and repeat it (quantizing 100+ MB with the K-quant search would
  // dominate start-up); the kernels do not care what the codes are.
  const int64_t distinct = std::min<int64_t>(rows, 64);
  std::vector<uint8_t> w(static_cast<size_t>(row_bytes * rows));
  const auto wf = random_floats(n * distinct, 1);
  traits(type, CpuTier::ref).from_float(wf.data(), w.data(), n * distinct);
  for (int64_t r = distinct; r < rows; ++r) {
    std::copy_n(w.data() + (r % distinct) * row_bytes, row_bytes, w.data() + r * row_bytes);
  }
  const auto x = random_floats(n, 2);
  std::vector<uint8_t> xq(static_cast<size_t>(gguf::row_bytes(t.vec_dot_type, n)));
  act.from_float(x.data(), xq.data(), n);
  std::vector<float> y(static_cast<size_t>(rows));
  for (auto _ : state) {
    for (int64_t r = 0; r < rows; ++r) y[r] = t.vec_dot(n, w.data() + r * row_bytes, xq.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * row_bytes * rows);
  state.counters["elems/s"] = benchmark::Counter(static_cast<double>(state.iterations() * n * rows),
                                                 benchmark::Counter::kIsRate);
}

// A prompt-sized matmul, 64 rows x 16 tokens of 4096, through vec_dot_tile (4 x 4 tiles) or one
// vec_dot per (row, token): what the tile saves in re-loaded blocks.
void bench_matmul(benchmark::State& state, G type, CpuTier tier, bool tiled) {
  const int64_t n = 4096, rows = 64, tokens = 16;
  const TypeTraits& t = traits(type, tier);
  const int64_t wb = gguf::row_bytes(type, n), ab = gguf::row_bytes(t.vec_dot_type, n);
  std::vector<uint8_t> w(static_cast<size_t>(wb * rows)), xq(static_cast<size_t>(ab * tokens));
  const auto wf = random_floats(n * rows, 4);
  const auto xf = random_floats(n * tokens, 5);
  traits(type, CpuTier::ref).from_float(wf.data(), w.data(), n * rows);
  traits(t.vec_dot_type, tier).from_float(xf.data(), xq.data(), n * tokens);
  std::vector<float> y(static_cast<size_t>(rows * tokens));
  for (auto _ : state) {
    if (tiled) {
      for (int64_t c = 0; c < tokens; c += kTileCols) {
        for (int64_t r = 0; r < rows; r += kTileRows) {
          t.vec_dot_tile(n, w.data() + r * wb, wb, kTileRows, xq.data() + c * ab, ab, kTileCols,
                         y.data() + c * rows + r, rows);
        }
      }
    } else {
      for (int64_t c = 0; c < tokens; ++c) {
        for (int64_t r = 0; r < rows; ++r) y[c * rows + r] = t.vec_dot(n, w.data() + r * wb, xq.data() + c * ab);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["elems/s"] = benchmark::Counter(static_cast<double>(state.iterations() * n * rows * tokens),
                                                 benchmark::Counter::kIsRate);
}

void bench_quantize(benchmark::State& state, G type, CpuTier tier) {
  const int64_t n = 4096;
  const auto x = random_floats(n, 3);
  std::vector<uint8_t> q(static_cast<size_t>(gguf::row_bytes(type, n)));
  const TypeTraits& t = traits(type, tier);
  for (auto _ : state) {
    t.from_float(x.data(), q.data(), n);
    benchmark::DoNotOptimize(q.data());
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(sizeof(float)));
}

int register_all() {
  const G weights[] = {G::Q4_K, G::Q6_K, G::Q8_0, G::Q5_0, G::Q4_0, G::F16, G::BF16, G::F32,
                       G::Q5_K, G::Q3_K, G::Q2_K, G::Q4_1, G::Q5_1, G::MXFP4};
  for (int ti = 0; ti <= static_cast<int>(cpu_max_tier()); ++ti) {
    const auto tier = static_cast<CpuTier>(ti);
    const std::string tname = cpu_tier_name(tier);
    for (G w : weights) {
      const TypeTraits& t = traits(w, tier);
      const std::string base = std::string("dot_") + t.name + "_" + gguf::type_name(t.vec_dot_type) + "/" + tname;
      // 64 rows of 4096: 147 KB (Q4_K) to 1 MB (F32), in L2. Then 64 MiB, far beyond the L3.
      const int64_t memory_rows = (int64_t{64} << 20) / gguf::row_bytes(w, 4096);
      benchmark::RegisterBenchmark((base + "/cache").c_str(), bench_matvec, w, tier, int64_t{64})
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark((base + "/memory").c_str(), bench_matvec, w, tier, memory_rows)
          ->Unit(benchmark::kMillisecond);
    }
    for (G w : {G::Q4_K, G::Q6_K, G::Q8_0, G::Q4_0, G::Q5_0, G::MXFP4}) {
      const std::string base = std::string("matmul16_") + gguf::type_name(w) + "/" + tname;
      benchmark::RegisterBenchmark((base + "/tile").c_str(), bench_matmul, w, tier, true)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark((base + "/dots").c_str(), bench_matmul, w, tier, false)
          ->Unit(benchmark::kMicrosecond);
    }
    for (G a : {G::Q8_0, G::Q8_K, G::Q8_1}) {
      benchmark::RegisterBenchmark((std::string("quantize_") + gguf::type_name(a) + "/" + tname).c_str(),
                                   bench_quantize, a, tier);
    }
  }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
}  // namespace hearth::quant
