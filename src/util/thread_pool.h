#pragma once
// One persistent pool per process. run(n, fn) calls fn(i) for i in [0, n) across the pool and the
// calling thread, and returns when all are done. Workers spin briefly between jobs (a decode step
// issues hundreds of small jobs), then sleep. Callers split by rows, never by reductions, so
// results do not depend on the thread count.
//
// A job ends when its tasks are done, not when every worker has looked at it: a worker that lost
// its core to another process (a browser, a compiler) and wakes late finds nothing left and costs
// nothing, so a busy machine degrades the pool towards one thread instead of stalling every one of
// a decode step's few hundred jobs for a scheduler tick.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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

  // How run() hands out tasks.
  // - kShared: in order, from one counter; the threads work side by side (a prompt's column block
  //   of tasks shares its activations).
  // - kRangePerThread: thread t first takes, in order, its own share [t n / T, (t + 1) n / T), then
  //   takes the others' last tasks one at a time. A thread that streams memory task after task
  //   then reads consecutive addresses, as a process of its own would, and a late or preempted
  //   thread's share is still finished by the others.
  enum class Claims { kShared, kRangePerThread };

  // fn(task, thread) for task in [0, n_tasks); thread in [0, size()). Not reentrant.
  void run(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn,
           Claims claims = Claims::kShared);

  // Splits [0, n) into contiguous chunks of at least `grain` items, one call per chunk:
  // fn(begin, end, thread).
  void parallel_for(int64_t n, int64_t grain,
                    const std::function<void(int64_t begin, int64_t end, int thread)>& fn);

 private:
  void worker_loop(int thread);
  void work(int thread);

  void run_chunk(int64_t n_tasks, const std::function<void(int64_t, int)>& fn, Claims claims);
  void run_claimed(int64_t task, int thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  // The current job: written by run() only while no task of it can be claimed.
  const std::function<void(int64_t, int)>* job_ = nullptr;
  // Claims: job number (kGenBits) | task count (kCountBits) | next task (kCountBits), one word, so
  // a claim (compare-exchange) can only take a task of the job it read the count of.
  // kShared jobs claim from claims_; kRangePerThread jobs from ranges_[t], the same packing with
  // the count as the share's end (its owner takes the next task, others the last). Whichever a job
  // does not use is left exhausted by the job before, so a worker simply tries both.
  std::atomic<uint64_t> claims_{0};
  struct alignas(64) Range {
    std::atomic<uint64_t> word{0};
  };
  std::unique_ptr<Range[]> ranges_;
  uint64_t job_number_ = 0;
  std::atomic<int64_t> done_{0};       // tasks of the current job finished
  std::atomic<uint64_t> generation_{0};  // bumped per job: wakes spinning or sleeping workers
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// The process-wide pool, created on first use with `n_threads` (0 = physical cores). Later calls
// with a different non-zero count resize it.
ThreadPool& global_thread_pool(int n_threads = 0);

}  // namespace hearth
