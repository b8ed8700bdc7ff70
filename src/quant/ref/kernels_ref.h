#pragma once
// The scalar reference kernels: the specification every SIMD tier is tested against, and the
// kernels of the ref tier. Naming: dequantize_<type>_ref, quantize_<type>_ref,
// dot_<weight>_<activation>_ref. n is a multiple of the type's block size everywhere.

#include <cstdint>

namespace hearth::quant {

// Floats.
void dequantize_f32_ref(const void* src, float* dst, int64_t n);
void quantize_f32_ref(const float* src, void* dst, int64_t n);
void dequantize_f16_ref(const void* src, float* dst, int64_t n);
void quantize_f16_ref(const float* src, void* dst, int64_t n);
void dequantize_bf16_ref(const void* src, float* dst, int64_t n);
void quantize_bf16_ref(const float* src, void* dst, int64_t n);
float dot_f32_f32_ref(int64_t n, const void* w, const void* a);
float dot_f16_f32_ref(int64_t n, const void* w, const void* a);
float dot_bf16_f32_ref(int64_t n, const void* w, const void* a);

// 32-element blocks.
void dequantize_q4_0_ref(const void* src, float* dst, int64_t n);
void quantize_q4_0_ref(const float* src, void* dst, int64_t n);
void dequantize_q4_1_ref(const void* src, float* dst, int64_t n);
void quantize_q4_1_ref(const float* src, void* dst, int64_t n);
void dequantize_q5_0_ref(const void* src, float* dst, int64_t n);
void quantize_q5_0_ref(const float* src, void* dst, int64_t n);
void dequantize_q5_1_ref(const void* src, float* dst, int64_t n);
void quantize_q5_1_ref(const float* src, void* dst, int64_t n);
void dequantize_q8_0_ref(const void* src, float* dst, int64_t n);
void quantize_q8_0_ref(const float* src, void* dst, int64_t n);
void dequantize_q8_1_ref(const void* src, float* dst, int64_t n);
void quantize_q8_1_ref(const float* src, void* dst, int64_t n);
float dot_q4_0_q8_0_ref(int64_t n, const void* w, const void* a);
float dot_q4_1_q8_1_ref(int64_t n, const void* w, const void* a);
float dot_q5_0_q8_0_ref(int64_t n, const void* w, const void* a);
float dot_q5_1_q8_1_ref(int64_t n, const void* w, const void* a);
float dot_q8_0_q8_0_ref(int64_t n, const void* w, const void* a);
void dequantize_mxfp4_ref(const void* src, float* dst, int64_t n);
void quantize_mxfp4_ref(const float* src, void* dst, int64_t n);
float dot_mxfp4_q8_0_ref(int64_t n, const void* w, const void* a);

// K-quants (256-element super-blocks).
void dequantize_q2_k_ref(const void* src, float* dst, int64_t n);
void quantize_q2_k_ref(const float* src, void* dst, int64_t n);
void dequantize_q3_k_ref(const void* src, float* dst, int64_t n);
void quantize_q3_k_ref(const float* src, void* dst, int64_t n);
void dequantize_q4_k_ref(const void* src, float* dst, int64_t n);
void quantize_q4_k_ref(const float* src, void* dst, int64_t n);
void dequantize_q5_k_ref(const void* src, float* dst, int64_t n);
void quantize_q5_k_ref(const float* src, void* dst, int64_t n);
void dequantize_q6_k_ref(const void* src, float* dst, int64_t n);
void quantize_q6_k_ref(const float* src, void* dst, int64_t n);
void dequantize_q8_k_ref(const void* src, float* dst, int64_t n);
void quantize_q8_k_ref(const float* src, void* dst, int64_t n);
float dot_q2_k_q8_k_ref(int64_t n, const void* w, const void* a);
float dot_q3_k_q8_k_ref(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k_ref(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k_ref(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k_ref(int64_t n, const void* w, const void* a);

// The tile kernel of any vec_dot: one call per (row, column) pair. SIMD tiers replace it where
// sharing activation loads across rows pays.
template <float (*Dot)(int64_t, const void*, const void*)>
void dot_tile_by_rows(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                      int64_t act_stride, int nc, float* out, int64_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  for (int c = 0; c < nc; ++c) {
    for (int r = 0; r < nr; ++r) out[c * out_stride + r] = Dot(n, wb + r * w_stride, ab + c * act_stride);
  }
}

}  // namespace hearth::quant
