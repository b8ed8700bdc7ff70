// Float-weight dots against F32 activations, and fp16 / bf16 row conversions.

#include <immintrin.h>

#include "quant/fp16.h"
#include "quant/x86/avx2/avx2_util.h"
#include "quant/x86/avx2/kernels_avx2.h"

namespace hearth::quant {

using namespace avx2;

namespace {

inline __m256 load_f16x8(const uint8_t* p) { return _mm256_cvtph_ps(load128(p)); }

inline __m256 load_bf16x8(const uint8_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
}

// Four independent accumulators hide the FMA latency; Load converts 8 weights to floats.
template <__m256 (*Load)(const uint8_t*), int kBytes, float (*Scalar)(const uint8_t*)>
float dot_floats(int64_t n, const void* w, const void* a) {
  const auto* pw = static_cast<const uint8_t*>(w);
  const auto* pa = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(Load(pw + i * kBytes), _mm256_loadu_ps(pa + i), acc0);
    acc1 = _mm256_fmadd_ps(Load(pw + (i + 8) * kBytes), _mm256_loadu_ps(pa + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(Load(pw + (i + 16) * kBytes), _mm256_loadu_ps(pa + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(Load(pw + (i + 24) * kBytes), _mm256_loadu_ps(pa + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(Load(pw + i * kBytes), _mm256_loadu_ps(pa + i), acc0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += Scalar(pw + i * kBytes) * pa[i];
  return sum;
}

inline __m256 load_f32x8(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
inline float scalar_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
inline float scalar_f16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return fp16(v);
}
inline float scalar_bf16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return bf16_to_f32(v);
}

}  // namespace

float dot_f32_f32_avx2(int64_t n, const void* w, const void* a) {
  return dot_floats<load_f32x8, 4, scalar_f32>(n, w, a);
}

float dot_f16_f32_avx2(int64_t n, const void* w, const void* a) {
  return dot_floats<load_f16x8, 2, scalar_f16>(n, w, a);
}

float dot_bf16_f32_avx2(int64_t n, const void* w, const void* a) {
  return dot_floats<load_bf16x8, 2, scalar_bf16>(n, w, a);
}

void dequantize_f16_avx2(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_f16x8(p + 2 * i));
  for (; i < n; ++i) dst[i] = scalar_f16(p + 2 * i);
}

void quantize_f16_avx2(const float* src, void* dst, int64_t n) {
  auto* p = static_cast<uint8_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 2 * i), h);
  }
  for (; i < n; ++i) {
    const uint16_t h = f32_to_fp16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}

void dequantize_bf16_avx2(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load_bf16x8(p + 2 * i));
  for (; i < n; ++i) dst[i] = scalar_bf16(p + 2 * i);
}

}  // namespace hearth::quant
