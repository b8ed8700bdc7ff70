#pragma once
// The avx2 tier's kernels (AVX2 + FMA + F16C): same contracts as their _ref twins in
// quant/ref/kernels_ref.h.

#include <cstdint>

namespace hearth::quant {

float dot_f32_f32_avx2(int64_t n, const void* w, const void* a);
float dot_f16_f32_avx2(int64_t n, const void* w, const void* a);
float dot_bf16_f32_avx2(int64_t n, const void* w, const void* a);
void dequantize_f16_avx2(const void* src, float* dst, int64_t n);
void quantize_f16_avx2(const float* src, void* dst, int64_t n);
void dequantize_bf16_avx2(const void* src, float* dst, int64_t n);

void quantize_q8_0_avx2(const float* src, void* dst, int64_t n);
void quantize_q8_1_avx2(const float* src, void* dst, int64_t n);
float dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a);
float dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a);
float dot_mxfp4_q8_0_avx2(int64_t n, const void* w, const void* a);

void quantize_q8_k_avx2(const float* src, void* dst, int64_t n);
float dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a);

// Tiles (TypeTraits::vec_dot_tile); bit-identical to the dots above.
void dot_tile_q8_0_q8_0_avx2(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q4_k_q8_k_avx2(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q6_k_q8_k_avx2(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride);

}  // namespace hearth::quant
