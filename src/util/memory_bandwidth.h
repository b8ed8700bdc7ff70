#pragma once
// Measures this machine's memory read bandwidth the way a decode step uses it: every thread of
// the pool streams its own part of a buffer far larger than the caches, with and without asking
// for lines ahead as the decode kernels do (the faster is reported). Decode speed is bounded by
// (bytes read per token) / (this bandwidth), so `hearth bench` reports decode as a fraction of it.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/stream_memory.h"

namespace hearth {

struct BandwidthResult {
  double best_gbps = 0;    // best of the repetitions, 1e9 bytes per second
  double median_gbps = 0;
  size_t bytes = 0;        // buffer size read per repetition
  int threads = 0;
};

// Reads a `bytes`-sized buffer `reps` times with `threads` threads (the global pool resized).
BandwidthResult measure_read_bandwidth(size_t bytes, int reps, int threads);

// One read of its buffer per read() call, timed, the kernels taking turns; rate_gbps() is the
// faster kernel's bytes over its seconds, summed over all reads. A cloud VM's bandwidth can halve
// and recover within seconds, so a probe before and after a minute of decoding may both land in
// fast seconds while the decode ran in slow ones: `hearth bench --memory-interleaved` reads once
// between decode steps, and sets the steps against reads made in the same seconds.
class InterleavedProbe {
 public:
  // `bytes` (far larger than the caches) in stream memory, first touched by the global pool of
  // `threads` threads. ok() is false when the memory cannot be had.
  InterleavedProbe(size_t bytes, int threads);
  bool ok() const { return mem_ != nullptr; }
  void read();
  double rate_gbps() const;
  int reads() const { return reads_; }
  size_t bytes() const { return bytes_; }

 private:
  StreamMemory mem_;
  size_t bytes_ = 0;
  int threads_ = 0;
  int reads_ = 0;
  std::vector<uint64_t (*)(const uint64_t*, size_t)> kernels_;  // the ways to read, taking turns
  std::vector<double> seconds_;  // per kernel
  std::vector<int> count_;       // reads per kernel
  std::vector<uint64_t> sink_;   // the reads' sums, kept so that the reads are not dropped
};

}  // namespace hearth
