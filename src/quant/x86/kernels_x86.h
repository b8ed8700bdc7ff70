#pragma once
// Entry points of the SIMD tiers: each overwrites, in a table indexed by GgmlType id, the kernels
// it has a faster version of (and leaves the rest to the tier below). Called once per tier by
// type_traits.cc, and only when the CPU supports that tier.

#include <cstddef>

#include "quant/type_traits.h"

namespace hearth::quant {

void register_avx2_kernels(TypeTraits* table, size_t size);
void register_avx512_kernels(TypeTraits* table, size_t size);

struct PackedKernels;
// Sets the avx512 panel gemms (quant/packed.h) of the entries of a table of n; `gfni`: the kernels
// that have a GFNI form use it (only for a CPU that reports GFNI).
void register_avx512_panels(PackedKernels* table, int n, bool gfni);

}  // namespace hearth::quant
