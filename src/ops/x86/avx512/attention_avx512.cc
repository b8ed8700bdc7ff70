// The attention tile (attention_tile.h) for AVX-512 (F, DQ).

#include "ops/attention_tile.h"
#include "ops/x86/avx512/simd_avx512.h"

namespace hearth::ops {

void register_attention_avx512(AttentionKernels& k) {
  k.attend = attend_tile<Avx512>;
  k.isa = "avx512";
}

}  // namespace hearth::ops
