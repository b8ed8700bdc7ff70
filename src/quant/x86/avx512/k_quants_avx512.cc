// K-quants on AVX-512: the Q8_K quantizer, and Q4_K / Q5_K / Q6_K dots. A 512-bit register holds
// 64 codes in element order (so the activations load contiguously); maddubs pairs them with the
// activations into int16, madd weights those by the sub-block scales into int32.

#include <immintrin.h>

#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/avx512/kernels_avx512.h"

namespace hearth::quant {

using namespace avx512;

namespace {

// 32 bytes repeated in both 256-bit halves.
inline __m512i broadcast256(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }

inline __m512i and_bytes(__m512i v, int mask) { return _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(mask))); }

// sum_j m[j] * (bsums[2j] + bsums[2j + 1]) for the Q4_K / Q5_K mins.
inline int mins_dot_bsums(const uint8_t m[8], const BlockQ8_K& y) {
  const __m128i mb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(m));
  const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mb, mb));
  return _mm512_reduce_add_epi32(_mm512_zextsi256_si512(_mm256_madd_epi16(load256(&y.bsums[0]), m16)));
}

}  // namespace

void quantize_q8_k_avx512(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    __m512 amax = _mm512_setzero_ps();
    for (int k = 0; k < kQK_K; k += 16) amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(src + k)));
    const float max = _mm512_reduce_max_ps(amax);
    const __m512 id = _mm512_set1_ps(max != 0.0f ? 127.0f / max : 0.0f);
    for (int k = 0; k < kQK_K; k += 16) {
      const __m512 r = _mm512_min_ps(_mm512_max_ps(round_away(_mm512_mul_ps(_mm512_loadu_ps(src + k), id)), lo), hi);
      const __m512i q = _mm512_cvttps_epi32(r);
      b[i].bsums[k / 16] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + k), _mm512_cvtsepi32_epi8(q));
    }
    b[i].d = max / 127.0f;
  }
}

float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i nibble_shift = set_halves_i16(0, 4);  // low nibbles in bytes 0-31, high in 32-63
  __m512 acc = _mm512_setzero_ps();
  float min_sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], m[8];
    unpack_scale_min_k4_all(x[i].scales, sc, m);
    __m512i sumi = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const __m512i q = and_bytes(_mm512_srlv_epi16(broadcast256(x[i].qs + 32 * p), nibble_shift), 0x0f);
      const __m512i prod = _mm512_maddubs_epi16(q, load512(y[i].qs + 64 * p));
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(prod, set_halves_i16(sc[2 * p], sc[2 * p + 1])));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(fp16(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    min_sum += fp16(x[i].dmin) * y[i].d * static_cast<float>(mins_dot_bsums(m, y[i]));
  }
  return _mm512_reduce_add_ps(acc) - min_sum;
}

float dot_q5_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i nibble_shift = set_halves_i16(0, 4);
  __m512 acc = _mm512_setzero_ps();
  float min_sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], m[8];
    unpack_scale_min_k4_all(x[i].scales, sc, m);
    const __m512i qh = broadcast256(x[i].qh);
    __m512i sumi = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const __m512i low = and_bytes(_mm512_srlv_epi16(broadcast256(x[i].qs + 32 * p), nibble_shift), 0x0f);
      const __m512i high = and_bytes(_mm512_srlv_epi16(qh, set_halves_i16(2 * p, 2 * p + 1)), 0x01);
      const __m512i q = _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
      const __m512i prod = _mm512_maddubs_epi16(q, load512(y[i].qs + 64 * p));
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(prod, set_halves_i16(sc[2 * p], sc[2 * p + 1])));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(fp16(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    min_sum += fp16(x[i].dmin) * y[i].d * static_cast<float>(mins_dot_bsums(m, y[i]));
  }
  return _mm512_reduce_add_ps(acc) - min_sum;
}

// Q6_K: per 128-half, ql's 64 bytes give codes for elements 0-63 (low nibbles) and 64-127 (high
// nibbles) in order; qh's 32 bytes, seen twice, give their top bits at shifts 0|2 and 4|6.
float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  // int16 lane k of a maddubs result belongs to sub-block k / 8 of its 64 elements.
  const __m512i sub_of_lane = _mm512_cvtepu8_epi16(_mm256_setr_epi8(
      0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m512i shift_a = set_halves_i16(0, 2), shift_b = set_halves_i16(4, 6);
  __m512 acc = _mm512_setzero_ps();
  float bias_sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(load128(x[i].scales));
    const __m512i sc512 = _mm512_zextsi256_si512(sc16);
    const int bias = _mm512_reduce_add_epi32(_mm512_zextsi256_si512(_mm256_madd_epi16(load256(&y[i].bsums[0]), sc16)));
    __m512i sumi = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i l = load512(x[i].ql + 64 * h);
      const __m512i qh = broadcast256(x[i].qh + 32 * h);
      const __m512i ua = _mm512_or_si512(and_bytes(l, 0x0f),
                                         _mm512_slli_epi16(and_bytes(_mm512_srlv_epi16(qh, shift_a), 3), 4));
      const __m512i ub = _mm512_or_si512(and_bytes(_mm512_srli_epi16(l, 4), 0x0f),
                                         _mm512_slli_epi16(and_bytes(_mm512_srlv_epi16(qh, shift_b), 3), 4));
      const __m512i sa = _mm512_permutexvar_epi16(_mm512_add_epi16(sub_of_lane, _mm512_set1_epi16(static_cast<int16_t>(8 * h))), sc512);
      const __m512i sb = _mm512_permutexvar_epi16(_mm512_add_epi16(sub_of_lane, _mm512_set1_epi16(static_cast<int16_t>(8 * h + 4))), sc512);
      const __m512i pa = _mm512_maddubs_epi16(ua, load512(y[i].qs + 128 * h));
      const __m512i pb = _mm512_maddubs_epi16(ub, load512(y[i].qs + 128 * h + 64));
      sumi = _mm512_add_epi32(sumi, _mm512_add_epi32(_mm512_madd_epi16(pa, sa), _mm512_madd_epi16(pb, sb)));
    }
    const float d = fp16(x[i].d) * y[i].d;
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc);
    bias_sum += d * static_cast<float>(32 * bias);
  }
  return _mm512_reduce_add_ps(acc) - bias_sum;
}

}  // namespace hearth::quant
