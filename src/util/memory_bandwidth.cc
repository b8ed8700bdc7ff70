#include "util/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "util/thread_pool.h"

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

}  // namespace

BandwidthResult measure_read_bandwidth(size_t bytes, int reps, int threads) {
  const size_t n_words = std::max<size_t>(bytes / 8, 4096);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n_words]);
  ThreadPool& pool = global_thread_pool(threads);
  // First touch from the pool, so pages are spread as the readers will use them.
  pool.parallel_for(static_cast<int64_t>(n_words), 1 << 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) buf[i] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> sink(pool.size(), 0);
  std::vector<double> gbps;
  for (int r = 0; r < std::max(reps, 1); ++r) {
    auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(static_cast<int64_t>(n_words), 1 << 16, [&](int64_t b, int64_t e, int t) {
      sink[t] += sum_words(buf.get() + b, static_cast<size_t>(e - b));
    });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gbps.push_back(n_words * 8.0 / s / 1e9);
  }
  volatile uint64_t keep = 0;
  for (uint64_t v : sink) keep = keep + v;
  (void)keep;
  std::sort(gbps.begin(), gbps.end());
  BandwidthResult res;
  res.best_gbps = gbps.back();
  res.median_gbps = gbps[gbps.size() / 2];
  res.bytes = n_words * 8;
  res.threads = pool.size();
  return res;
}

}  // namespace hearth
