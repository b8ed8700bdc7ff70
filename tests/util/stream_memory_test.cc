// alloc_stream_memory: aligned, writable, and marked for huge pages exactly when asked. The mark is
// read back from /proc/self/smaps ("hg" in VmFlags: the mapping has MADV_HUGEPAGE), which holds
// whatever the system's THP setting is; whether the kernel then finds 2 MiB pages is not ours.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/stream_memory.h"

namespace hearth {
namespace {

// The VmFlags line of the mapping that holds p, or "" when none is found.
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = addr >= lo && addr < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool has_flag(const std::string& flags, const char* flag) {
  std::istringstream words(flags);
  std::string w;
  while (words >> w) if (w == flag) return true;
  return false;
}

class StreamMemoryTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("HEARTH_HUGE_PAGES"); }
};

TEST_F(StreamMemoryTest, BigBuffersAreHugePageAlignedAndAdvised) {
  const size_t bytes = (size_t{8} << 20) + 4096 + 3;  // not a multiple of the page size
  StreamMemory m = alloc_stream_memory(bytes);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.get()) % (size_t{2} << 20), 0u);
  std::memset(m.get(), 0x5a, bytes);
  EXPECT_EQ(static_cast<uint8_t*>(m.get())[bytes - 1], 0x5a);
  const std::string flags = vm_flags_of(m.get());
  ASSERT_FALSE(flags.empty()) << "no mapping in /proc/self/smaps holds the buffer";
  EXPECT_TRUE(has_flag(flags, "hg")) << flags;
}

TEST_F(StreamMemoryTest, SwitchedOffLeavesThePagesAlone) {
  setenv("HEARTH_HUGE_PAGES", "0", 1);
  const size_t bytes = size_t{8} << 20;
  StreamMemory m = alloc_stream_memory(bytes);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.get()) % 64, 0u);
  std::memset(m.get(), 1, bytes);
  EXPECT_FALSE(has_flag(vm_flags_of(m.get()), "hg"));
}

TEST_F(StreamMemoryTest, SmallBuffersAreCacheLineAligned) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{100000}}) {
    StreamMemory m = alloc_stream_memory(bytes);
    ASSERT_NE(m, nullptr) << bytes;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(m.get()) % 64, 0u) << bytes;
  }
}

// Buffers of odd sizes, carved one after another from one huge-page mapping, 4 KiB aligned, none
// overlapping the next; a buffer larger than the slab gets one of its own, and the next small
// one a fresh slab (the big one's has no room left).
TEST_F(StreamMemoryTest, ArenaCarvesBuffersFromHugePageSlabs) {
  StreamArena arena(size_t{8} << 20);
  const size_t sizes[] = {100000, 1300000, 5000, 221184, 9 << 20, 3};
  std::vector<std::shared_ptr<uint8_t>> bufs;
  for (size_t n : sizes) {
    bufs.push_back(arena.alloc(n));
    ASSERT_NE(bufs.back(), nullptr) << n;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bufs.back().get()) % 4096, 0u) << n;
  }
  for (size_t i = 0; i < bufs.size(); ++i) std::memset(bufs[i].get(), static_cast<int>(i + 1), sizes[i]);
  for (size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_EQ(bufs[i].get()[0], i + 1) << i;
    EXPECT_EQ(bufs[i].get()[sizes[i] - 1], i + 1) << i;
  }
  // The first four share a slab, in order, each at the next 4 KiB boundary after the one before.
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(bufs[i].get(), bufs[i - 1].get() + (sizes[i - 1] + 4095) / 4096 * 4096) << i;
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bufs[0].get()) % (size_t{2} << 20), 0u);
  EXPECT_TRUE(has_flag(vm_flags_of(bufs[2].get()), "hg"));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bufs[4].get()) % (size_t{2} << 20), 0u);  // its own slab
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bufs[5].get()) % (size_t{2} << 20), 0u);  // a fresh one
}

// The buffers own their slab: the arena may go first.
TEST_F(StreamMemoryTest, ArenaBuffersOutliveTheArena) {
  std::shared_ptr<uint8_t> a, b;
  {
    StreamArena arena(size_t{4} << 20);
    a = arena.alloc(5000);
    b = arena.alloc(7000);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
  }
  EXPECT_EQ(a.use_count(), 2);  // a and b: one slab, no other owner left
  std::memset(b.get(), 7, 7000);
  EXPECT_EQ(b.get()[6999], 7);
}

}  // namespace
}  // namespace hearth
