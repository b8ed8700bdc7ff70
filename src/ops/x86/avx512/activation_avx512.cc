// The element-wise kernels (activation_simd.h) for AVX-512 (F, DQ).

#include "ops/activation_kernels.h"
#include "ops/activation_simd.h"
#include "ops/x86/avx512/simd_avx512.h"

namespace hearth::ops {

void register_activation_avx512(ActivationKernels& k) {
  fill_activation_kernels<Avx512>(k);
  k.isa = "avx512";
}

}  // namespace hearth::ops
