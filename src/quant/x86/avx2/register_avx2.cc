#include "quant/x86/kernels_x86.h"

namespace hearth::quant {

void register_avx2_kernels(TypeTraits* table, size_t size) {
  (void)table;
  (void)size;
}

}  // namespace hearth::quant
