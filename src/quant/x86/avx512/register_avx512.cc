#include "quant/ref/kernels_ref.h"
#include "quant/x86/avx512/kernels_avx512.h"
#include "quant/x86/kernels_x86.h"

namespace hearth::quant {
namespace {

using TileFn = void (*)(int64_t, const void*, int64_t, int, const void*, int64_t, int, float*, int64_t);

template <float (*Dot)(int64_t, const void*, const void*)>
void set_dot(TypeTraits& e, TileFn tile = dot_tile_by_rows<Dot>) {
  e.vec_dot = Dot;
  e.vec_dot_tile = tile;
  e.isa = "avx512";
}

}  // namespace

// Runs after register_avx2_kernels on the same table: what is not set here stays avx2.
void register_avx512_kernels(TypeTraits* table, size_t size) {
  auto at = [&](GgmlType t) -> TypeTraits& {
    (void)size;
    return table[static_cast<size_t>(t)];
  };
  using G = GgmlType;
  set_dot<dot_f32_f32_avx512>(at(G::F32), dot_tile_f32_f32_avx512);
  set_dot<dot_f16_f32_avx512>(at(G::F16), dot_tile_f16_f32_avx512);
  set_dot<dot_bf16_f32_avx512>(at(G::BF16));
  at(G::F32).chunked_tile = chunked_tile_f32_avx512;
  at(G::F16).chunked_tile = chunked_tile_f32_avx512;
  at(G::BF16).chunked_tile = chunked_tile_f32_avx512;
  at(G::Q8_0).from_float = quantize_q8_0_avx512;
  at(G::Q8_K).from_float = quantize_q8_k_avx512;
  set_dot<dot_q8_0_q8_0_avx512>(at(G::Q8_0), dot_tile_q8_0_q8_0_avx512);
  set_dot<dot_q4_0_q8_0_avx512>(at(G::Q4_0), dot_tile_q4_0_q8_0_avx512);
  set_dot<dot_q5_0_q8_0_avx512>(at(G::Q5_0), dot_tile_q5_0_q8_0_avx512);
  set_dot<dot_mxfp4_q8_0_avx512>(at(G::MXFP4), dot_tile_mxfp4_q8_0_avx512);
  set_dot<dot_q4_k_q8_k_avx512>(at(G::Q4_K), dot_tile_q4_k_q8_k_avx512);
  set_dot<dot_q5_k_q8_k_avx512>(at(G::Q5_K));
  set_dot<dot_q6_k_q8_k_avx512>(at(G::Q6_K), dot_tile_q6_k_q8_k_avx512);
}

}  // namespace hearth::quant
