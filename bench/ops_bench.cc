// The model's non-matmul ops at the Qwen2 1.5B shape (hidden 1536, 12 query heads of 128, 2 KV
// heads, FFN 8960, F16 KV cache; attention also over Q8_0), through the CPU kernels the "cpu" backend calls, per CPU tier
// and thread count. One iteration is one layer's call: multiply by 28 layers for a token or a
// prompt.
//   nice build-<you>/bench/hearth_bench --benchmark_filter='^ops_'
// Names: ops_<op>/<case>/<tier>/threads:<n>.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/kv_quant.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/rope.h"
#include "quant/fp16.h"
#include "quant/type_traits.h"
#include "util/cpu_features.h"
#include "util/memory_bandwidth.h"
#include "util/stream_memory.h"
#include "util/thread_pool.h"

namespace hearth::ops {
namespace {

constexpr int64_t kEmbd = 1536;
constexpr int kHead = 12;
constexpr int kHeadKv = 2;
constexpr int64_t kHeadDim = 128;
constexpr int64_t kFf = 8960;

std::vector<float> random_floats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

// Pins the tier and the pool size for one benchmark; restores the tier after.
struct Setup {
  Setup(CpuTier tier, int threads) : saved(cpu_tier()) {
    set_cpu_tier(tier);
    global_thread_pool(threads);
  }
  ~Setup() { set_cpu_tier(saved); }
  CpuTier saved;
};

// A `_paired` benchmark's probe: after each iteration, untimed, one read of 256 MiB
// (InterleavedProbe); the counter of_probe is the iterations' bytes/s over the probe's, both from
// the same seconds. A VM whose bandwidth halves and recovers within seconds leaves of_probe
// comparable between runs where bytes/s is not.
class PairedProbe {
 public:
  PairedProbe(bool on, int threads) {
    if (on) probe_ = std::make_unique<InterleavedProbe>(size_t{256} << 20, threads);
  }
  void start() {
    if (probe_ != nullptr) t0_ = std::chrono::steady_clock::now();
  }
  void stop(benchmark::State& state) {
    if (probe_ == nullptr) return;
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    state.PauseTiming();
    probe_->read();
    state.ResumeTiming();
  }
  void report(benchmark::State& state, double bytes) const {
    if (probe_ == nullptr || probe_->reads() == 0 || seconds_ <= 0) return;
    state.counters["probe_GB/s"] = probe_->rate_gbps();
    state.counters["of_probe"] = bytes / seconds_ / 1e9 / probe_->rate_gbps();
  }

 private:
  std::unique_ptr<InterleavedProbe> probe_;
  std::chrono::steady_clock::time_point t0_;
  double seconds_ = 0;
};

// Attention of `n_rows` query rows of one sequence whose last row sits at position n_ctx - 1
// (decode: n_rows = 1; prompt: n_rows = n_ctx, a causal triangle), over an F16 or Q8_0 cache.
// `cold`: the cache is copied into layers totalling >= 1 GiB (far above the L3 of any machine
// measured), one per iteration, so K and V come from memory as in a decode step, which streams the
// weights between two layers' attention; then bytes/s is the memory bandwidth the attention
// reaches. n_rows cache rows of `width` random values (seed, scale as random_floats) in a cache of
// `type` (F16, or rows of Q8_0 / Q4_0 blocks).
std::vector<uint8_t> cache_rows(int64_t n_rows, int64_t width, gguf::GgmlType type, uint32_t seed, float scale) {
  const auto f = random_floats(n_rows * width, seed, scale);
  const int64_t row_bytes = kv_row_bytes(type, width);
  std::vector<uint8_t> out(static_cast<size_t>(n_rows * row_bytes));
  if (type == gguf::GgmlType::F16) {
    for (size_t i = 0; i < f.size(); ++i) reinterpret_cast<uint16_t*>(out.data())[i] = quant::f32_to_fp16(f[i]);
  } else {
    for (int64_t p = 0; p < n_rows; ++p) quant::traits(type).from_float(f.data() + p * width, out.data() + p * row_bytes, width);
  }
  return out;
}

// F16 keys in the CPU backend's tiles (AttentionShape::k_tiles) unless `key_rows`.
std::vector<uint8_t> tile_keys(const std::vector<uint8_t>& rows, int64_t n_rows, int64_t width) {
  std::vector<uint8_t> out(rows.size());
  const auto* r = reinterpret_cast<const uint16_t*>(rows.data());
  auto* t = reinterpret_cast<uint16_t*>(out.data());
  for (int64_t p = 0; p < n_rows; ++p) {
    for (int64_t c = 0; c < width; ++c) t[kv_key_index(true, width, p, c)] = r[p * width + c];
  }
  return out;
}

void bench_attention_layout(benchmark::State& state, CpuTier tier, int threads, int64_t n_ctx,
                            int64_t n_rows, gguf::GgmlType type, bool cold, bool key_rows,
                            bool paired = false) {
  Setup setup(tier, threads);
  AttentionShape s;
  s.n_head = kHead;
  s.n_head_kv = kHeadKv;
  s.head_dim_k = s.head_dim_v = kHeadDim;
  s.k_stride = s.v_stride = kHeadKv * kHeadDim;
  s.kv_type = type;
  s.scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  std::vector<uint8_t> k = cache_rows(n_ctx, s.k_stride, type, 1, 2.0f);
  const std::vector<uint8_t> v = cache_rows(n_ctx, s.v_stride, type, 2, 1.0f);
  if (type == gguf::GgmlType::F16 && !key_rows) {
    s.k_tiles = true;
    k = tile_keys(k, n_ctx, s.k_stride);
  }
  const size_t layer_bytes = k.size() + v.size();
  const int64_t n_layers = cold ? static_cast<int64_t>((size_t{1} << 30) / layer_bytes + 1) : 1;
  // The memory the CPU backend gives KV caches (huge pages unless HEARTH_HUGE_PAGES=0).
  StreamMemory layer_memory = alloc_stream_memory(static_cast<size_t>(n_layers) * layer_bytes);
  if (layer_memory == nullptr) {
    state.SkipWithError("cannot allocate the cache layers");
    return;
  }
  const auto layers = std::span<uint8_t>(static_cast<uint8_t*>(layer_memory.get()),
                                         static_cast<size_t>(n_layers) * layer_bytes);
  for (int64_t l = 0; l < n_layers; ++l) {
    std::memcpy(layers.data() + l * layer_bytes, k.data(), k.size());
    std::memcpy(layers.data() + l * layer_bytes + k.size(), v.data(), v.size());
  }
  const auto q = random_floats(n_rows * kHead * kHeadDim, 3);
  std::vector<float> out(static_cast<size_t>(n_rows * kHead * kHeadDim));
  std::vector<AttentionRow> rows(static_cast<size_t>(n_rows));
  for (int64_t r = 0; r < n_rows; ++r) {
    rows[r] = {q.data() + r * kHead * kHeadDim, layers.data(), layers.data() + k.size(),
               n_ctx - n_rows + r + 1, out.data() + r * kHead * kHeadDim};
  }
  int64_t layer = 0;
  PairedProbe probe(paired, threads);
  for (auto _ : state) {
    probe.start();
    for (auto& r : rows) {
      r.k = layers.data() + layer * layer_bytes;
      r.v = layers.data() + layer * layer_bytes + k.size();
    }
    layer = (layer + 1) % n_layers;
    attention(s, rows.data(), n_rows);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    probe.stop(state);
  }
  probe.report(state, static_cast<double>(state.iterations()) * static_cast<double>(layer_bytes));
  int64_t pairs = 0;
  for (const auto& r : rows) pairs += r.n_kv;
  state.counters["head_keys/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * pairs * kHead), benchmark::Counter::kIsRate);
  // Decode reads each cache byte once: bytes/s against the machine's bandwidth.
  if (n_rows == 1) state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(layer_bytes));
}

void bench_attention(benchmark::State& state, CpuTier tier, int threads, int64_t n_ctx, int64_t n_rows,
                     gguf::GgmlType type, bool cold) {
  bench_attention_layout(state, tier, threads, n_ctx, n_rows, type, cold, false);
}
void bench_attention_rows(benchmark::State& state, CpuTier tier, int threads, int64_t n_ctx, int64_t n_rows,
                          gguf::GgmlType type, bool cold) {
  bench_attention_layout(state, tier, threads, n_ctx, n_rows, type, cold, true);
}

// Decode attention from memory with a PairedProbe read after each layer.
void bench_attention_paired(benchmark::State& state, CpuTier tier, int threads, int64_t n_ctx,
                            gguf::GgmlType type) {
  bench_attention_layout(state, tier, threads, n_ctx, 1, type, true, false, true);
}

// Decode attention over DeepSeek-V2-Lite's MLA latent: 16 query heads (absorbed into the latent)
// on one KV head whose 576-wide row (512 latent + 64 RoPE) is the key and whose first 512
// columns are the value, F16 or Q8_0, one row at position n_ctx - 1, from cache.
void bench_attention_mla(benchmark::State& state, CpuTier tier, int threads, int64_t n_ctx, gguf::GgmlType type) {
  Setup setup(tier, threads);
  AttentionShape s;
  s.n_head = 16;
  s.n_head_kv = 1;
  s.head_dim_k = 576;
  s.head_dim_v = 512;
  s.k_stride = s.v_stride = 576;
  s.kv_type = type;
  s.scale = 1.0f / std::sqrt(192.0f);
  const std::vector<uint8_t> k = cache_rows(n_ctx, s.k_stride, type, 1, 2.0f);
  const auto q = random_floats(s.n_head * s.head_dim_k, 3);
  std::vector<float> out(static_cast<size_t>(s.n_head * s.head_dim_v));
  AttentionRow row{q.data(), k.data(), k.data(), n_ctx, out.data()};
  for (auto _ : state) {
    attention(s, &row, 1);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["head_keys/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n_ctx * s.n_head), benchmark::Counter::kIsRate);
}

void bench_rmsnorm(benchmark::State& state, CpuTier tier, int threads, int64_t n_rows) {
  Setup setup(tier, threads);
  const auto x = random_floats(n_rows * kEmbd, 4), w = random_floats(kEmbd, 5);
  std::vector<float> out(x.size());
  for (auto _ : state) {
    rmsnorm(x.data(), w.data(), n_rows, kEmbd, 1e-6f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * n_rows * kEmbd * 8);
}

// Q and K of one layer (12 + 2 heads) for n_tok tokens, NeoX mode as qwen2.
void bench_rope(benchmark::State& state, CpuTier tier, int threads, int64_t n_tok) {
  Setup setup(tier, threads);
  RopeParams p;
  p.mode = RopeMode::neox;
  p.n_dims = kHeadDim;
  p.freq_base = 1000000.0f;
  auto q = random_floats(n_tok * kHead * kHeadDim, 6), k = random_floats(n_tok * kHeadKv * kHeadDim, 7);
  std::vector<int32_t> pos(static_cast<size_t>(n_tok));
  for (int64_t t = 0; t < n_tok; ++t) pos[t] = static_cast<int32_t>(300 + t);
  for (auto _ : state) {
    rope_batch(q.data(), n_tok, kHead, kHeadDim, pos.data(), p);
    rope_batch(k.data(), n_tok, kHeadKv, kHeadDim, pos.data(), p);
    benchmark::DoNotOptimize(q.data());
  }
}

void bench_swiglu(benchmark::State& state, CpuTier tier, int threads, int64_t n_tok) {
  Setup setup(tier, threads);
  const auto g = random_floats(n_tok * kFf, 8, 3.0f), u = random_floats(n_tok * kFf, 9);
  std::vector<float> out(g.size());
  for (auto _ : state) {
    swiglu(g.data(), u.data(), n_tok * kFf, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n_tok * kFf);
}

void bench_add(benchmark::State& state, CpuTier tier, int threads, int64_t n_tok) {
  Setup setup(tier, threads);
  auto y = random_floats(n_tok * kEmbd, 10);
  const auto x = random_floats(n_tok * kEmbd, 11, 1e-6f);
  for (auto _ : state) {
    add_inplace(y.data(), x.data(), n_tok * kEmbd);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n_tok * kEmbd);
}

void bench_add_bias(benchmark::State& state, CpuTier tier, int threads, int64_t n_tok) {
  Setup setup(tier, threads);
  auto x = random_floats(n_tok * kEmbd, 12);
  const auto b = random_floats(kEmbd, 13, 1e-6f);
  for (auto _ : state) {
    add_bias_rows(x.data(), b.data(), n_tok, kEmbd);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * n_tok * kEmbd);
}

// One decode token's weight products for one layer of the 1.5B shape (q, k and v in one
// matmul_many, o, gate and up in one, down; every weight in `type`, packed as the loader packs
// them), over enough layers (>= 1 GiB) that the weights come from memory as in a decode step.
// bytes/s is the weight bandwidth the products reach through the thread pool, to set against
// panel_memory (one kernel streaming one panel set) and `hearth bench --memory`. `hot`: one layer
// only (24-46 MB, mostly in this machine's 32 MiB L3), so bytes/s is about the rate the kernels'
// arithmetic allows; where memory is faster than that, decode cannot reach memory's limit.
// `paired`: a PairedProbe read after each layer.
void bench_matmul_decode(benchmark::State& state, CpuTier tier, int threads, gguf::GgmlType type,
                         bool hot, bool paired) {
  Setup setup(tier, threads);
  const quant::TypeTraits& tr = quant::traits(type);
  struct Shape {
    int64_t rows, cols;
  };
  // q, k, v, o, gate, up, down
  const Shape shapes[7] = {{kEmbd, kEmbd}, {kHeadKv * kHeadDim, kEmbd}, {kHeadKv * kHeadDim, kEmbd},
                           {kEmbd, kEmbd}, {kFf, kEmbd},                {kFf, kEmbd},
                           {kEmbd, kFf}};
  std::vector<std::vector<uint8_t>> raw(7);
  int64_t layer_bytes = 0;
  for (int m = 0; m < 7; ++m) {
    const int64_t row_bytes = gguf::row_bytes(type, shapes[m].cols);
    raw[m].resize(static_cast<size_t>(row_bytes * shapes[m].rows));
    const auto f = random_floats(shapes[m].cols, 20 + m);
    for (int64_t r = 0; r < shapes[m].rows; ++r) tr.from_float(f.data(), raw[m].data() + r * row_bytes, shapes[m].cols);
    layer_bytes += row_bytes * shapes[m].rows;
  }
  const int64_t n_layers = hot ? 1 : (int64_t{1} << 30) / layer_bytes + 1;
  std::vector<Matrix> w(static_cast<size_t>(n_layers * 7));
  std::vector<std::shared_ptr<void>> owners;
  StreamArena arena;  // as the CPU backend packs a model's weights
  for (int64_t l = 0; l < n_layers; ++l) {
    for (int m = 0; m < 7; ++m) {
      Matrix& x = w[static_cast<size_t>(l * 7 + m)];
      x.type = type;
      x.n_rows = shapes[m].rows;
      x.n_cols = shapes[m].cols;
      x.row_bytes = static_cast<int64_t>(raw[m].size()) / shapes[m].rows;
      x.data = raw[m].data();
      owners.push_back(pack_matrix(x, &arena));
      if (owners.back() == nullptr) {
        state.SkipWithError("no panel kernels for this type on this tier");
        return;
      }
    }
  }
  const auto x = random_floats(kFf, 30);
  std::vector<float> q(kEmbd), k(kHeadKv * kHeadDim), v(kHeadKv * kHeadDim), o(kEmbd), g(kFf), u(kFf), d(kEmbd);
  int64_t layer = 0;
  PairedProbe probe(paired, threads);
  for (auto _ : state) {
    probe.start();
    const Matrix* lw = w.data() + layer * 7;
    layer = (layer + 1) % n_layers;
    const MatmulOut qkv[3] = {{&lw[0], q.data()}, {&lw[1], k.data()}, {&lw[2], v.data()}};
    matmul_many(qkv, 3, x.data(), 1);
    matmul(lw[3], x.data(), 1, o.data());
    const MatmulOut gu[2] = {{&lw[4], g.data()}, {&lw[5], u.data()}};
    matmul_many(gu, 2, x.data(), 1);
    matmul(lw[6], x.data(), 1, d.data());
    benchmark::DoNotOptimize(d.data());
    probe.stop(state);
  }
  state.SetBytesProcessed(state.iterations() * layer_bytes);
  probe.report(state, static_cast<double>(state.iterations() * layer_bytes));
}

int register_all() {
  for (int ti = 0; ti <= static_cast<int>(cpu_max_tier()); ++ti) {
    const auto tier = static_cast<CpuTier>(ti);
    const std::string tn = cpu_tier_name(tier);
    for (int threads : {1, 2}) {
      const std::string tail = "/" + tn + "/threads:" + std::to_string(threads);
      auto reg = [&](const std::string& name, auto fn, auto... args) {
        benchmark::RegisterBenchmark(("ops_" + name + tail).c_str(), fn, tier, threads, args...)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      };
      using gguf::GgmlType;
      reg("attention/decode_ctx512", bench_attention, int64_t{512}, int64_t{1}, GgmlType::F16, false);
      reg("attention/decode_ctx4096", bench_attention, int64_t{4096}, int64_t{1}, GgmlType::F16, false);
      reg("attention/prompt512", bench_attention, int64_t{512}, int64_t{512}, GgmlType::F16, false);
      reg("attention/decode_ctx4096_q8_0", bench_attention, int64_t{4096}, int64_t{1}, GgmlType::Q8_0, false);
      reg("attention/decode_ctx16384_q8_0", bench_attention, int64_t{16384}, int64_t{1}, GgmlType::Q8_0, false);
      reg("attention/decode_ctx16384", bench_attention, int64_t{16384}, int64_t{1}, GgmlType::F16, false);
      reg("attention/prompt512_q8_0", bench_attention, int64_t{512}, int64_t{512}, GgmlType::Q8_0, false);
      reg("attention/prompt512_ctx4096", bench_attention, int64_t{4096}, int64_t{512}, GgmlType::F16, false);
      reg("attention/decode_ctx4096_cold", bench_attention, int64_t{4096}, int64_t{1}, GgmlType::F16, true);
      reg("attention/decode_ctx16384_cold", bench_attention, int64_t{16384}, int64_t{1}, GgmlType::F16, true);
      reg("attention/decode_ctx16384_q8_0_cold", bench_attention, int64_t{16384}, int64_t{1}, GgmlType::Q8_0, true);
      reg("attention/decode_ctx16384_q4_0_cold", bench_attention, int64_t{16384}, int64_t{1}, GgmlType::Q4_0, true);
      reg("attention/decode_ctx16384_paired", bench_attention_paired, int64_t{16384},
          GgmlType::F16);
      reg("attention/decode_ctx16384_q8_0_paired", bench_attention_paired, int64_t{16384},
          GgmlType::Q8_0);
      // F16 keys in rows, as before the tiles (and as the cpu-ref backend keeps them).
      reg("attention/decode_ctx16384_rows", bench_attention_rows, int64_t{16384}, int64_t{1}, GgmlType::F16, false);
      reg("attention/decode_ctx16384_cold_rows", bench_attention_rows, int64_t{16384}, int64_t{1}, GgmlType::F16, true);
      reg("attention/prompt512_ctx4096_rows", bench_attention_rows, int64_t{4096}, int64_t{512}, GgmlType::F16, false);
      reg("attention/decode_mla_ctx4096", bench_attention_mla, int64_t{4096}, GgmlType::F16);
      reg("attention/decode_mla_ctx4096_q8_0", bench_attention_mla, int64_t{4096}, GgmlType::Q8_0);
      reg("matmul/decode_q4_K", bench_matmul_decode, GgmlType::Q4_K, false, false);
      reg("matmul/decode_q6_K", bench_matmul_decode, GgmlType::Q6_K, false, false);
      reg("matmul/decode_q8_0", bench_matmul_decode, GgmlType::Q8_0, false, false);
      reg("matmul/decode_q4_K_paired", bench_matmul_decode, GgmlType::Q4_K, false, true);
      reg("matmul/decode_q6_K_paired", bench_matmul_decode, GgmlType::Q6_K, false, true);
      reg("matmul/decode_q8_0_paired", bench_matmul_decode, GgmlType::Q8_0, false, true);
      reg("matmul/decode_q4_K_hot", bench_matmul_decode, GgmlType::Q4_K, true, false);
      reg("matmul/decode_q6_K_hot", bench_matmul_decode, GgmlType::Q6_K, true, false);
      reg("matmul/decode_q8_0_hot", bench_matmul_decode, GgmlType::Q8_0, true, false);
      reg("rmsnorm/decode", bench_rmsnorm, int64_t{1});
      reg("rmsnorm/prompt512", bench_rmsnorm, int64_t{512});
      reg("rope/decode", bench_rope, int64_t{1});
      reg("rope/prompt512", bench_rope, int64_t{512});
      reg("swiglu/decode", bench_swiglu, int64_t{1});
      reg("swiglu/prompt512", bench_swiglu, int64_t{512});
      reg("add/decode", bench_add, int64_t{1});
      reg("add/prompt512", bench_add, int64_t{512});
      reg("add_bias/decode", bench_add_bias, int64_t{1});
      reg("add_bias/prompt512", bench_add_bias, int64_t{512});
    }
  }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
}  // namespace hearth::ops
