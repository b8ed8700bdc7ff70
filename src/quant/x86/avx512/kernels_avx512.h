#pragma once
// The avx512 tier's kernels (AVX-512 F/BW/VL/DQ + VNNI): same contracts as their _ref twins.
// Formats without one here keep the avx2 kernel in the avx512 table.

#include <cstdint>

namespace hearth::quant {

float dot_f32_f32_avx512(int64_t n, const void* w, const void* a);
float dot_f16_f32_avx512(int64_t n, const void* w, const void* a);
float dot_bf16_f32_avx512(int64_t n, const void* w, const void* a);

void quantize_q8_0_avx512(const float* src, void* dst, int64_t n);
void quantize_q8_k_avx512(const float* src, void* dst, int64_t n);
float dot_q8_0_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_q4_0_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_q5_0_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_mxfp4_q8_0_avx512(int64_t n, const void* w, const void* a);
float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a);
float dot_q5_k_q8_k_avx512(int64_t n, const void* w, const void* a);
float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a);

// TypeTraits::chunked_tile of F32, F16 and BF16 (their dots above share its arithmetic).
void chunked_tile_f32_avx512(int64_t n, const float* w, int64_t w_stride, int nr, const float* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride);

// Tiles (TypeTraits::vec_dot_tile); bit-identical to the dots above.
void dot_tile_f32_f32_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_f16_f32_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q8_0_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q4_0_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_mxfp4_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                                int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q5_0_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q4_k_q8_k_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride);
void dot_tile_q6_k_q8_k_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride);

}  // namespace hearth::quant
