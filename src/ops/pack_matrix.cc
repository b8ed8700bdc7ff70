// pack_matrix (ops/matmul.h): weights repacked once at load into the panels the SIMD kernels read.

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

#include "ops/matmul.h"
#include "quant/packed.h"
#include "util/env.h"
#include "util/stream_memory.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {

#ifndef MADV_POPULATE_READ  // Linux 5.14; older kernels refuse it and take the faults instead
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

// Prefaults the whole pages inside [p, p + n); a hint, errors ignored.
void populate(const void* p, size_t n, int advice) {
  const uintptr_t page = 4096;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, advice);
}
}  // namespace

std::shared_ptr<void> pack_matrix(Matrix& w, StreamArena* arena) {
  const quant::PackedKernels* pk = quant::packed_kernels(w.type);
  if (pk == nullptr || w.n_rows % quant::kPanelRows != 0 || w.packed != nullptr) return nullptr;
  if (env_value("HEARTH_REPACK") == "0") return nullptr;
  const size_t bytes = static_cast<size_t>(w.n_rows * w.row_bytes);
  std::shared_ptr<void> mem;
  if (arena != nullptr) {
    mem = arena->alloc(bytes);
  } else if (StreamMemory own = alloc_stream_memory(bytes)) {
    mem = std::shared_ptr<void>(std::move(own));
  }
  if (mem == nullptr) return nullptr;  // keep the rows: slower, not wrong
  auto* dst = static_cast<uint8_t*>(mem.get());
  const int64_t panel_bytes = quant::kPanelRows * w.row_bytes;
  const int64_t n_panels = w.n_rows / quant::kPanelRows;
  // Chunks of about 4 MiB: page tables of the source (file pages already cached) and of the new
  // memory are filled by one call per chunk rather than one fault per 4 KiB page, which otherwise
  // costs more than the repacking itself.
  const int64_t per_chunk = std::max<int64_t>(1, (int64_t{4} << 20) / panel_bytes);
  const int64_t n_chunks = (n_panels + per_chunk - 1) / per_chunk;
  global_thread_pool().run(n_chunks, [&](int64_t c, int) {
    const int64_t p0 = c * per_chunk, p1 = std::min(n_panels, p0 + per_chunk);
    populate(w.row(p0 * quant::kPanelRows), static_cast<size_t>((p1 - p0) * panel_bytes), MADV_POPULATE_READ);
    populate(dst + p0 * panel_bytes, static_cast<size_t>((p1 - p0) * panel_bytes), MADV_POPULATE_WRITE);
    for (int64_t p = p0; p < p1; ++p) {
      pk->pack(w.row(p * quant::kPanelRows), w.row_bytes, w.n_cols, dst + p * panel_bytes);
    }
  });
  w.packed = dst;
  w.panels = pk;
  return mem;
}

}  // namespace hearth::ops
