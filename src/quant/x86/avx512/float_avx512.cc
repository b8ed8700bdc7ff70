// Float-weight dots against F32 activations, 16 lanes, four accumulators.

#include <immintrin.h>

#include <cstring>

#include "quant/fp16.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/avx512/kernels_avx512.h"

namespace hearth::quant {

using namespace avx512;

namespace {

inline __m512 load_f32x16(const uint8_t* p) { return _mm512_loadu_ps(p); }
inline __m512 load_f16x16(const uint8_t* p) { return _mm512_cvtph_ps(load256(p)); }
inline __m512 load_bf16x16(const uint8_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load256(p)), 16));
}
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

template <__m512 (*Load)(const uint8_t*), int kBytes, float (*Scalar)(const uint8_t*)>
float dot_floats(int64_t n, const void* w, const void* a) {
  const auto* pw = static_cast<const uint8_t*>(w);
  const auto* pa = static_cast<const float*>(a);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(Load(pw + i * kBytes), _mm512_loadu_ps(pa + i), acc0);
    acc1 = _mm512_fmadd_ps(Load(pw + (i + 16) * kBytes), _mm512_loadu_ps(pa + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(Load(pw + (i + 32) * kBytes), _mm512_loadu_ps(pa + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(Load(pw + (i + 48) * kBytes), _mm512_loadu_ps(pa + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(Load(pw + i * kBytes), _mm512_loadu_ps(pa + i), acc0);
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += Scalar(pw + i * kBytes) * pa[i];
  return sum;
}

}  // namespace

float dot_f32_f32_avx512(int64_t n, const void* w, const void* a) {
  return dot_floats<load_f32x16, 4, scalar_f32>(n, w, a);
}

float dot_f16_f32_avx512(int64_t n, const void* w, const void* a) {
  return dot_floats<load_f16x16, 2, scalar_f16>(n, w, a);
}

float dot_bf16_f32_avx512(int64_t n, const void* w, const void* a) {
  return dot_floats<load_bf16x16, 2, scalar_bf16>(n, w, a);
}

}  // namespace hearth::quant
