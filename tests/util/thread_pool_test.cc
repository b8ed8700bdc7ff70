#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
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
