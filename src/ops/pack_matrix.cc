// pack_matrix (ops/matmul.h): weights repacked once at load into the panels the SIMD kernels read.

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "ops/matmul.h"
#include "quant/packed.h"
#include "util/env.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

std::shared_ptr<void> pack_matrix(Matrix& w) {
  const quant::PackedKernels* pk = quant::packed_kernels(w.type);
  if (pk == nullptr || w.n_rows % quant::kPanelRows != 0 || w.packed != nullptr) return nullptr;
  if (env_value("HEARTH_REPACK") == "0") return nullptr;
  const size_t bytes = static_cast<size_t>(w.n_rows * w.row_bytes);
  // Huge pages where the kernel gives them: a decode step streams every byte, and 4 KiB pages
  // would cost a TLB miss per page.
  const size_t align = bytes >= kHugePage ? kHugePage : 64;
  void* mem = std::aligned_alloc(align, (bytes + align - 1) / align * align);
  if (mem == nullptr) return nullptr;  // keep the rows: slower, not wrong
  if (align == kHugePage) madvise(mem, bytes, MADV_HUGEPAGE);
  auto* dst = static_cast<uint8_t*>(mem);
  const int64_t panel_bytes = quant::kPanelRows * w.row_bytes;
  const int64_t n_panels = w.n_rows / quant::kPanelRows;
  global_thread_pool().run(n_panels, [&](int64_t p, int) {
    pk->pack(w.row(p * quant::kPanelRows), w.row_bytes, w.n_cols, dst + p * panel_bytes);
  });
  w.packed = dst;
  w.panels = pk;
  return std::shared_ptr<void>(mem, [](void* m) { std::free(m); });
}

}  // namespace hearth::ops
