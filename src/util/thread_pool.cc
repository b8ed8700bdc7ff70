#include "util/thread_pool.h"

#include <algorithm>
#include <memory>
#include <thread>

#include "util/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define HEARTH_PAUSE() _mm_pause()
#else
#define HEARTH_PAUSE() ((void)0)
#endif

namespace hearth {

namespace {
constexpr int kSpinIterations = 20000;
constexpr int kWaitSpins = 2000;
constexpr int kCountBits = 22;
constexpr int kGenBits = 64 - 2 * kCountBits;
constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
constexpr int64_t kMaxTasks = static_cast<int64_t>(kCountMask);

uint64_t pack(uint64_t job, uint64_t count, uint64_t next) {
  return (job << (2 * kCountBits)) | (count << kCountBits) | next;
}
uint64_t count_of(uint64_t c) { return (c >> kCountBits) & kCountMask; }
uint64_t next_of(uint64_t c) { return c & kCountMask; }

// Takes the next task of `word` (`front`) or its last; -1 when none is left.
int64_t claim(std::atomic<uint64_t>& word, bool front) {
  uint64_t c = word.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t next = next_of(c), end = count_of(c);
    if (next >= end) return -1;
    const uint64_t want = front ? c + 1 : c - (uint64_t{1} << kCountBits);
    if (word.compare_exchange_weak(c, want, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return static_cast<int64_t>(front ? next : end - 1);
    }
  }
}
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads), ranges_(std::make_unique<Range[]>(static_cast<size_t>(n_threads_))) {
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_claimed(int64_t task, int thread) {
  // The claim succeeded on this job's word, so run() has published job_ for it and cannot
  // replace it before this task is counted done.
  (*job_)(task, thread);
  done_.fetch_add(1, std::memory_order_release);
}

void ThreadPool::work(int thread) {
  for (int64_t task; (task = claim(claims_, true)) >= 0;) run_claimed(task, thread);
  for (int64_t task; (task = claim(ranges_[thread].word, true)) >= 0;) run_claimed(task, thread);
  for (int k = 1; k < n_threads_; ++k) {
    std::atomic<uint64_t>& other = ranges_[(thread + k) % n_threads_].word;
    for (int64_t task; (task = claim(other, false)) >= 0;) run_claimed(task, thread);
  }
}

void ThreadPool::worker_loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      HEARTH_PAUSE();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    work(thread);
  }
}

void ThreadPool::run(int64_t n_tasks, const std::function<void(int64_t, int)>& fn, Claims claims) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i, 0);
    return;
  }
  if (n_tasks <= kMaxTasks) {
    run_chunk(n_tasks, fn, claims);
    return;
  }
  for (int64_t base = 0; base < n_tasks; base += kMaxTasks) {
    const std::function<void(int64_t, int)> shifted = [&](int64_t t, int thread) { fn(base + t, thread); };
    run_chunk(std::min(kMaxTasks, n_tasks - base), shifted, claims);
  }
}

void ThreadPool::run_chunk(int64_t n_tasks, const std::function<void(int64_t, int)>& fn, Claims claims) {
  job_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  job_number_ = (job_number_ + 1) & ((uint64_t{1} << kGenBits) - 1);
  if (claims == Claims::kShared) {
    claims_.store(pack(job_number_, static_cast<uint64_t>(n_tasks), 0), std::memory_order_release);
  } else {
    const auto n = static_cast<uint64_t>(n_tasks), threads = static_cast<uint64_t>(n_threads_);
    for (uint64_t t = 0; t < threads; ++t) {
      ranges_[t].word.store(pack(job_number_, (t + 1) * n / threads, t * n / threads), std::memory_order_release);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  work(0);
  // Only tasks already claimed can be outstanding. Their worker may have lost its core to another
  // process: after a short spin, yield so it can finish on this one.
  for (int spin = 0; done_.load(std::memory_order_acquire) != n_tasks; ++spin) {
    if (spin < kWaitSpins) {
      HEARTH_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t max_chunks = (n + grain - 1) / grain;
  int64_t chunks = std::min<int64_t>(max_chunks, n_threads_);
  int64_t per = (n + chunks - 1) / chunks;
  run(chunks, [&](int64_t c, int thread) {
    int64_t b = c * per;
    int64_t e = std::min(n, b + per);
    if (b < e) fn(b, e, thread);
  });
}

ThreadPool& global_thread_pool(int n_threads) {
  static std::unique_ptr<ThreadPool> pool;
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  if (n_threads <= 0) n_threads = pool ? pool->size() : cpu_physical_cores();
  if (!pool || pool->size() != n_threads) pool = std::make_unique<ThreadPool>(n_threads);
  return *pool;
}

}  // namespace hearth
