#pragma once
// Memory for the big buffers a decode step streams through (repacked weights, KV caches, the
// bandwidth probe): 2 MiB aligned and marked for transparent huge pages, so a stream of a gigabyte
// costs a few hundred TLB misses rather than a quarter of a million. In a virtual machine each miss
// walks two page tables (guest and host), which is where 4 KiB pages lose: see stream_memory.cc
// for the measurements. HEARTH_HUGE_PAGES=0 turns the hint off.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace hearth {

struct StreamMemoryFree {
  void operator()(void* p) const;
};
using StreamMemory = std::unique_ptr<void, StreamMemoryFree>;

// `bytes` of uninitialised memory, 64-byte aligned at least; empty when the allocation fails.
// Pages are faulted in by the first writes (or by the caller's MADV_POPULATE_WRITE), after the
// huge-page hint, so the kernel can back them with 2 MiB pages from the start.
StreamMemory alloc_stream_memory(size_t bytes);

// Many buffers carved one after another out of a few large stream allocations (slabs). Each
// buffer of its own would get huge pages only for its whole 2 MiB pages: a 1.5B model's q, k, v
// and o matrices (0.2-1.3 MB) and every matrix's tail would sit in 4 KiB pages, a third of a
// layer's bytes. Untouched slab memory is never faulted in, so a slab's unused end costs address
// space only. Thread-safe.
class StreamArena {
 public:
  explicit StreamArena(size_t slab_bytes = size_t{256} << 20) : slab_bytes_(slab_bytes) {}
  // `bytes` of uninitialised memory, 4 KiB aligned; the pointer keeps its slab alive. Null when the
  // allocation fails.
  std::shared_ptr<uint8_t> alloc(size_t bytes);

 private:
  size_t slab_bytes_;
  std::mutex mutex_;
  std::shared_ptr<void> slab_;
  size_t used_ = 0, size_ = 0;
};

}  // namespace hearth
