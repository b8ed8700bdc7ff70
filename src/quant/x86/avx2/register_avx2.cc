#include "quant/ref/kernels_ref.h"
#include "quant/x86/avx2/kernels_avx2.h"
#include "quant/x86/kernels_x86.h"

namespace hearth::quant {
namespace {

using TileFn = void (*)(int64_t, const void*, int64_t, int, const void*, int64_t, int, float*, int64_t);

template <float (*Dot)(int64_t, const void*, const void*)>
void set_dot(TypeTraits& e, TileFn tile = dot_tile_by_rows<Dot>) {
  e.vec_dot = Dot;
  e.vec_dot_tile = tile;
  e.isa = "avx2";
}

}  // namespace

void register_avx2_kernels(TypeTraits* table, size_t size) {
  auto at = [&](GgmlType t) -> TypeTraits& {
    (void)size;
    return table[static_cast<size_t>(t)];
  };
  using G = GgmlType;
  set_dot<dot_f32_f32_avx2>(at(G::F32));
  set_dot<dot_f16_f32_avx2>(at(G::F16));
  at(G::F16).to_float = dequantize_f16_avx2;
  at(G::F16).from_float = quantize_f16_avx2;
  set_dot<dot_bf16_f32_avx2>(at(G::BF16));
  at(G::BF16).to_float = dequantize_bf16_avx2;

  at(G::Q8_0).from_float = quantize_q8_0_avx2;
  at(G::Q8_1).from_float = quantize_q8_1_avx2;
  at(G::Q8_K).from_float = quantize_q8_k_avx2;
  set_dot<dot_q8_0_q8_0_avx2>(at(G::Q8_0), dot_tile_q8_0_q8_0_avx2);
  set_dot<dot_q4_0_q8_0_avx2>(at(G::Q4_0));
  set_dot<dot_q5_0_q8_0_avx2>(at(G::Q5_0));
  set_dot<dot_q4_1_q8_1_avx2>(at(G::Q4_1));
  set_dot<dot_q5_1_q8_1_avx2>(at(G::Q5_1));
  set_dot<dot_mxfp4_q8_0_avx2>(at(G::MXFP4));
  set_dot<dot_q2_k_q8_k_avx2>(at(G::Q2_K));
  set_dot<dot_q3_k_q8_k_avx2>(at(G::Q3_K));
  set_dot<dot_q4_k_q8_k_avx2>(at(G::Q4_K), dot_tile_q4_k_q8_k_avx2);
  set_dot<dot_q5_k_q8_k_avx2>(at(G::Q5_K));
  set_dot<dot_q6_k_q8_k_avx2>(at(G::Q6_K), dot_tile_q6_k_q8_k_avx2);
}

}  // namespace hearth::quant
