#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace hearth {
namespace {

TEST(ThreadPool, RunsEveryTaskOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<std::atomic<int>> hits(257);
      pool.run(257, [&](int64_t i, int t) {
        ASSERT_LT(t, threads);
        hits[i].fetch_add(1);
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

// Many short jobs back to back: workers often wake after a job is already finished and must take
// no task of it, nor of the next job twice.
TEST(ThreadPool, BackToBackShortJobsRunEachTaskOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(64);
  for (int rep = 0; rep < 3000; ++rep) {
    const int n = rep % 7 == 0 ? 0 : 1 + rep % 61;
    for (auto& h : hits) h.store(0);
    pool.run(n, [&](int64_t i, int t) {
      ASSERT_GE(t, 0);
      ASSERT_LT(t, 3);
      hits[i].fetch_add(1);
    });
    for (int i = 0; i < 64; ++i) ASSERT_EQ(hits[i].load(), i < n ? 1 : 0) << "rep " << rep << " task " << i;
  }
}

// The caller finishes a job alone when the workers are busy elsewhere (here: stuck in the first
// task of the job until the caller has done all the others).
TEST(ThreadPool, CallerFinishesTheTasksWorkersDoNotClaim) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  std::atomic<int> caller_tasks{0};
  const auto caller = std::this_thread::get_id();
  pool.run(100, [&](int64_t, int) {
    if (std::this_thread::get_id() == caller) {
      caller_tasks.fetch_add(1);
    } else {
      // A worker that got a task waits until the caller has run the rest (as if preempted).
      while (done.load() < 99) std::this_thread::yield();
    }
    done.fetch_add(1);
  });
  EXPECT_EQ(done.load(), 100);
  EXPECT_GE(caller_tasks.load(), 99);
}

// kRangePerThread: each thread takes its own share from the front, in order, and only the last
// tasks of the others' shares, from the back; every task still runs once.
TEST(ThreadPool, RangePerThreadTakesOwnShareInOrderThenOthersFromTheEnd) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 200; ++rep) {
      const int n = rep % 9 == 0 ? 257 : rep % 23;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::vector<std::vector<int64_t>> taken(static_cast<size_t>(threads));
      pool.run(n, [&](int64_t i, int t) {
        ASSERT_LT(t, threads);
        hits[static_cast<size_t>(i)].fetch_add(1);
        taken[static_cast<size_t>(t)].push_back(i);
      }, ThreadPool::Claims::kRangePerThread);
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
      for (int t = 0; t < threads; ++t) {
        const int64_t begin = int64_t{t} * n / threads, end = int64_t{t + 1} * n / threads;
        int64_t next_own = begin;
        std::vector<int64_t> last_from(static_cast<size_t>(threads), n);  // per owner: descending
        for (int64_t i : taken[static_cast<size_t>(t)]) {
          if (i >= begin && i < end) {
            ASSERT_EQ(i, next_own) << "thread " << t << " n " << n;
            ++next_own;
            continue;
          }
          int owner = 0;
          while (!(i >= int64_t{owner} * n / threads && i < int64_t{owner + 1} * n / threads)) ++owner;
          ASSERT_LT(i, last_from[static_cast<size_t>(owner)]) << "thread " << t << " n " << n;
          last_from[static_cast<size_t>(owner)] = i;
        }
      }
    }
  }
}

// A worker stuck in the first task of its share: the caller runs its own share, then the rest of
// the worker's from the end.
TEST(ThreadPool, RangePerThreadCallerFinishesAStuckWorkersShare) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  std::vector<int64_t> by_caller;
  const auto caller = std::this_thread::get_id();
  pool.run(100, [&](int64_t i, int) {
    if (std::this_thread::get_id() == caller) {
      by_caller.push_back(i);
    } else {
      while (done.load() < 99) std::this_thread::yield();
    }
    done.fetch_add(1);
  }, ThreadPool::Claims::kRangePerThread);
  EXPECT_EQ(done.load(), 100);
  ASSERT_GE(by_caller.size(), 99u);
  for (size_t k = 0; k < by_caller.size(); ++k) {
    EXPECT_EQ(by_caller[k], k < 50 ? static_cast<int64_t>(k) : static_cast<int64_t>(149 - k)) << k;
  }
}

TEST(ThreadPool, ParallelForCoversRangeInChunks) {
  ThreadPool pool(3);
  std::vector<int> seen(1000, 0);
  pool.parallel_for(1000, 16, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) seen[i] += 1;
  });
  for (int v : seen) EXPECT_EQ(v, 1);
  int calls = 0;
  pool.parallel_for(5, 16, [&](int64_t b, int64_t e, int) {
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 5);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace hearth
