#include "util/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "util/cpu_features.h"
#include "util/stream_memory.h"
#include "util/thread_pool.h"

#if defined(__x86_64__)
// GCC 12 warns inside its own intrinsics headers (the _mm512_undefined_* placeholders, bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

namespace hearth {
namespace {

// Sums 64-bit words with eight independent accumulators so the loop is bound by loads, not by
// the add chain; the sum is returned so the compiler cannot drop the reads.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) a[j] += p[i + j];
  }
  for (; i < n; ++i) a[0] += p[i];
  uint64_t s = 0;
  for (uint64_t v : a) s += v;
  return s;
}

#if defined(__x86_64__)
// Wide loads: a 64-bit loop issues too few loads per cycle to saturate the memory system from one
// core, and would report the loop's speed instead of the memory's. Function-level targets keep
// this file buildable for plain x86-64; the caller picks by CPU.
// kAhead > 0 also asks for the line kAhead bytes ahead of each one read, as the decode kernels do
// (quant/x86/avx512/packed_avx512.cc): on some machines a core keeps more reads in flight that way
// than its hardware prefetchers start (AMD Zen 5 VM, 2 threads: 35 GB/s plain, 47 with it), so a
// probe without it would report less than the kernels reach.
template <size_t kAhead>
__attribute__((target("avx512f"))) uint64_t sum_words_avx512(const uint64_t* p, size_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if constexpr (kAhead > 0) {
      const char* ahead = reinterpret_cast<const char*>(p + i) + kAhead;
      for (int line = 0; line < 4; ++line) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
    }
    a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 8));
    a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 16));
    a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 24));
  }
  uint64_t s = static_cast<uint64_t>(_mm512_reduce_add_epi64(
      _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3))));
  return s + sum_words(p + i, n - i);
}

__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + sum_words(p + i, n - i);
}
#endif

using SumFn = uint64_t (*)(const uint64_t*, size_t);

// The ways this CPU can stream a buffer; the probe reports the fastest.
std::vector<SumFn> sum_kernels() {
#if defined(__x86_64__)
  if (cpu_tier() >= CpuTier::avx512) return {sum_words_avx512<0>, sum_words_avx512<4096>};
  if (cpu_tier() >= CpuTier::avx2) return {sum_words_avx2};
#endif
  return {sum_words};
}

// `n_words` of stream memory (the same memory as the weights and caches get, so the ratio compares
// like with like), first touched from the pool so pages are spread as the readers will use them.
StreamMemory touched_buffer(size_t n_words, ThreadPool& pool) {
  StreamMemory mem = alloc_stream_memory(n_words * 8);
  if (mem == nullptr) return mem;
  auto* buf = static_cast<uint64_t*>(mem.get());
  pool.parallel_for(static_cast<int64_t>(n_words), 1 << 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) buf[i] = static_cast<uint64_t>(i);
  });
  return mem;
}

// Seconds for the pool to read the buffer once with `sum` (each thread's sum into its sink).
double timed_read(const uint64_t* buf, size_t n_words, SumFn sum, ThreadPool& pool,
                  std::vector<uint64_t>& sink) {
  auto t0 = std::chrono::steady_clock::now();
  pool.parallel_for(static_cast<int64_t>(n_words), 1 << 16, [&](int64_t b, int64_t e, int t) {
    sink[static_cast<size_t>(t)] += sum(buf + b, static_cast<size_t>(e - b));
  });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void keep_sums(const std::vector<uint64_t>& sink) {
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep + v;
  (void)keep;
}

}  // namespace

BandwidthResult measure_read_bandwidth(size_t bytes, int reps, int threads) {
  const size_t n_words = std::max<size_t>(bytes / 8, 4096);
  ThreadPool& pool = global_thread_pool(threads);
  StreamMemory mem = touched_buffer(n_words, pool);
  if (mem == nullptr) return {};
  const auto* buf = static_cast<const uint64_t*>(mem.get());
  std::vector<uint64_t> sink(pool.size(), 0);
  const std::vector<SumFn> kernels = sum_kernels();
  // Repetitions alternate the kernels, so a slow minute of a shared machine does not fall on one.
  std::vector<std::vector<double>> gbps(kernels.size());
  for (int r = 0; r < std::max(reps, 1); ++r) {
    for (size_t k = 0; k < kernels.size(); ++k) {
      gbps[k].push_back(n_words * 8.0 / timed_read(buf, n_words, kernels[k], pool, sink) / 1e9);
    }
  }
  keep_sums(sink);
  for (auto& g : gbps) std::sort(g.begin(), g.end());
  size_t best = 0;
  for (size_t k = 1; k < gbps.size(); ++k) {
    if (gbps[k][gbps[k].size() / 2] > gbps[best][gbps[best].size() / 2]) best = k;
  }
  const std::vector<double>& g = gbps[best];
  BandwidthResult res;
  res.best_gbps = g.back();
  res.median_gbps = g[g.size() / 2];
  res.bytes = n_words * 8;
  res.threads = pool.size();
  return res;
}

InterleavedProbe::InterleavedProbe(size_t bytes, int threads)
    : bytes_(std::max<size_t>(bytes / 8, 4096) * 8), threads_(threads) {
  ThreadPool& pool = global_thread_pool(threads_);
  mem_ = touched_buffer(bytes_ / 8, pool);
  if (mem_ == nullptr) return;
  kernels_ = sum_kernels();
  seconds_.assign(kernels_.size(), 0.0);
  count_.assign(kernels_.size(), 0);
  sink_.assign(static_cast<size_t>(pool.size()), 0);
}

void InterleavedProbe::read() {
  if (mem_ == nullptr) return;
  const size_t k = static_cast<size_t>(reads_) % kernels_.size();
  seconds_[k] += timed_read(static_cast<const uint64_t*>(mem_.get()), bytes_ / 8, kernels_[k],
                            global_thread_pool(threads_), sink_);
  ++count_[k];
  ++reads_;
}

double InterleavedProbe::rate_gbps() const {
  double best = 0;
  for (size_t k = 0; k < seconds_.size(); ++k) {
    if (count_[k] > 0 && seconds_[k] > 0)
      best = std::max(best, count_[k] * static_cast<double>(bytes_) / seconds_[k] / 1e9);
  }
  return best;
}

}  // namespace hearth
