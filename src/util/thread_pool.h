#pragma once
// One persistent pool per process. run(n, fn) calls fn(i) for i in [0, n) across the pool and the
// calling thread, and returns when all are done. Workers spin briefly between jobs (a decode step
// issues hundreds of small jobs), then sleep. Callers split by rows, never by reductions, so
// results do not depend on the thread count.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hearth {

class ThreadPool {
 public:
  // n_threads counts the caller: ThreadPool(1) runs everything inline.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // fn(task, thread) for task in [0, n_tasks); thread in [0, size()). Not reentrant.
  void run(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

  // Splits [0, n) into contiguous chunks of at least `grain` items, one call per chunk:
  // fn(begin, end, thread).
  void parallel_for(int64_t n, int64_t grain,
                    const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

 private:
  void worker_loop(int thread);
  void work(int thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int)>* job_ = nullptr;
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> pending_workers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// The process-wide pool, created on first use with `n_threads` (0 = physical cores). Later calls
// with a different non-zero count resize it.
ThreadPool& global_thread_pool(int n_threads = 0);

}  // namespace hearth
