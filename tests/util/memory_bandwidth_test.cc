// The interleaved probe: each read() is one timed pass over its buffer, and the rate is bytes over
// seconds summed across the reads of one kernel (not a best-of), so it can be set against decode
// steps timed in the same seconds.

#include "util/memory_bandwidth.h"

#include <gtest/gtest.h>

namespace hearth {
namespace {

TEST(InterleavedProbe, CountsItsReadsAndReportsTheirRate) {
  InterleavedProbe probe(size_t{4} << 20, 2);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe.bytes(), size_t{4} << 20);
  EXPECT_EQ(probe.reads(), 0);
  EXPECT_EQ(probe.rate_gbps(), 0.0);  // nothing read yet: no rate
  for (int i = 0; i < 5; ++i) probe.read();
  EXPECT_EQ(probe.reads(), 5);
  // 4 MiB passes take at least microseconds and at most seconds on any machine this runs on.
  EXPECT_GT(probe.rate_gbps(), 0.01);
  EXPECT_LT(probe.rate_gbps(), 10000.0);
}

}  // namespace
}  // namespace hearth
