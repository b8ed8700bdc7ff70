// The element-wise kernels (activation_simd.h) for AVX2 + FMA.

#include "ops/activation_kernels.h"
#include "ops/activation_simd.h"
#include "ops/x86/avx2/simd_avx2.h"

namespace hearth::ops {

void register_activation_avx2(ActivationKernels& k) {
  fill_activation_kernels<Avx2>(k);
  k.isa = "avx2";
}

}  // namespace hearth::ops
