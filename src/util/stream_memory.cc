#include "util/stream_memory.h"

#include <sys/mman.h>

#include <cstdlib>

#include "util/env.h"

namespace hearth {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

void StreamMemoryFree::operator()(void* p) const { std::free(p); }

// Measured 2026-12-06 10:44-10:46 UTC on this VM (no other process running), the same binary with
// and without the hint, alternated, two rounds, `hearth bench FILE -p 0 -n 32 -r 1 -t T`:
// 1.5B Q4_K_M, 2 threads 15.96, 14.23 -> 19.45, 18.57 t/s; 1 thread 8.36, 8.28 -> 11.21, 11.12;
// Q8_0, 2 threads 14.67, 13.71 -> 17.21, 15.89; 1 thread 7.46, 7.49 -> 8.84, 8.66.
// An earlier session on this VM measured the opposite for the repacked weights (one thread, Q8_0
// 15.0-16.1 t/s without against 11.6-13.2 with), so the switch stays.
StreamMemory alloc_stream_memory(size_t bytes) {
  const bool huge = bytes >= kHugePage && env_value("HEARTH_HUGE_PAGES") != "0";
  const size_t align = huge ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
  // Only the whole 2 MiB pages inside `bytes`: a huge page over the tail would hold up to 2 MiB
  // nobody reads (1.5B Q4_K_M: 62 MB more resident with the tail included).
  if (p != nullptr && huge) madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);  // a hint
  return StreamMemory(p);
}

std::shared_ptr<uint8_t> StreamArena::alloc(size_t bytes) {
  constexpr size_t kAlign = 4096;
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  std::lock_guard<std::mutex> lock(mutex_);
  if (slab_ == nullptr || size_ - used_ < rounded) {
    const size_t size = rounded > slab_bytes_ ? rounded : slab_bytes_;
    StreamMemory mem = alloc_stream_memory(size);
    if (mem == nullptr) return nullptr;
    slab_ = std::shared_ptr<void>(std::move(mem));
    used_ = 0;
    size_ = size;
  }
  uint8_t* p = static_cast<uint8_t*>(slab_.get()) + used_;
  used_ += rounded;
  return std::shared_ptr<uint8_t>(slab_, p);
}

}  // namespace hearth
