#pragma once
// Memory for the big buffers a decode step streams through (repacked weights, KV caches, the
// bandwidth probe): 2 MiB aligned and marked for transparent huge pages, so a stream of a gigabyte
// costs a few hundred TLB misses rather than a quarter of a million. In a virtual machine each miss
// walks two page tables (guest and host), which is where 4 KiB pages lose: see stream_memory.cc
// for the measurements. HEARTH_HUGE_PAGES=0 turns the hint off.

#include <cstddef>
#include <memory>

namespace hearth {

struct StreamMemoryFree {
  void operator()(void* p) const;
};
using StreamMemory = std::unique_ptr<void, StreamMemoryFree>;

// `bytes` of uninitialised memory, 64-byte aligned at least; empty when the allocation fails.
// Pages are faulted in by the first writes (or by the caller's MADV_POPULATE_WRITE), after the
// huge-page hint, so the kernel can back them with 2 MiB pages from the start.
StreamMemory alloc_stream_memory(size_t bytes);

}  // namespace hearth
