#pragma once
// Measures this machine's memory read bandwidth the way a decode step uses it: every thread of
// the pool streams its own part of a buffer far larger than the caches, with and without asking
// for lines ahead as the decode kernels do (the faster is reported). Decode speed is bounded by
// (bytes read per token) / (this bandwidth), so `hearth bench` reports decode as a fraction of it.

#include <cstddef>

namespace hearth {

struct BandwidthResult {
  double best_gbps = 0;    // best of the repetitions, 1e9 bytes per second
  double median_gbps = 0;
  size_t bytes = 0;        // buffer size read per repetition
  int threads = 0;
};

// Reads a `bytes`-sized buffer `reps` times with `threads` threads (the global pool resized).
BandwidthResult measure_read_bandwidth(size_t bytes, int reps, int threads);

}  // namespace hearth
