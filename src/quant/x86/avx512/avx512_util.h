#pragma once
// Small AVX-512 helpers shared by the avx512 kernels (only included from files built with the
// avx512 flags).

// GCC 12 warns inside its own avx512fintrin.h (the _mm512_undefined_* placeholders, GCC bug
// 105593) wherever those intrinsics inline; the warnings say nothing about our code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstdint>

namespace hearth::quant::avx512 {

inline float fp16(uint16_t h) { return _cvtsh_ss(h); }

inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }
inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Two 32-byte pieces from anywhere as one 512-bit register (lo in bytes 0-31).
inline __m512i load2x256(const void* lo, const void* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(load256(lo)), load256(hi), 1);
}

// Signed bytes x, y in [-127, 127]: 16 int32 sums of 4 products each (VNNI on |x| and y * sign(x)).
inline __m512i dot_i8(__m512i x, __m512i y) {
  const __m512i ax = _mm512_abs_epi8(x);
  const __m512i sy = _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y);
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), ax, sy);
}

// Float vector: a in lanes 0-7, b in lanes 8-15.
inline __m512 set_halves(float a, float b) {
  return _mm512_insertf32x8(_mm512_set1_ps(a), _mm256_set1_ps(b), 1);
}

// int16 vector: a in lanes 0-15 (bytes 0-31 of a maddubs input), b in lanes 16-31.
inline __m512i set_halves_i16(int a, int b) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<int16_t>(a)),
                            _mm256_set1_epi16(static_cast<int16_t>(b)), 1);
}

// Round half away from zero, exactly as roundf.
inline __m512 round_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_sub_ps(v, t);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(frac), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 step = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(t, up, t, step);
}

}  // namespace hearth::quant::avx512
