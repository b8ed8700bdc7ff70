// The attention tile (attention_tile.h) for AVX2 + FMA + F16C.

#include "ops/attention_tile.h"
#include "ops/x86/avx2/simd_avx2.h"

namespace hearth::ops {

void register_attention_avx2(AttentionKernels& k) {
  k.attend = attend_tile<Avx2>;
  k.isa = "avx2";
}

}  // namespace hearth::ops
