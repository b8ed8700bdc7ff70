// K-quants on AVX-512: the Q8_K quantizer, and Q4_K / Q5_K / Q6_K dots. A 512-bit register holds
// 64 codes in element order (so the activations load contiguously); maddubs pairs them with the
// activations into int16, madd weights those by the sub-block scales into int32.

#include <immintrin.h>

#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/avx512/kernels_avx512.h"
#include "quant/x86/tile.h"

namespace hearth::quant {

using namespace avx512;

namespace {

// 32 bytes repeated in both 256-bit halves.
inline __m512i broadcast256(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }

inline __m512i and_bytes(__m512i v, int mask) { return _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(mask))); }

// sum_j m[j] * (bsums[2j] + bsums[2j + 1]) for the Q4_K / Q5_K mins.
inline int mins_dot_bsums(uint64_t m, const BlockQ8_K& y) {
  const __m128i mb = _mm_cvtsi64_si128(static_cast<long long>(m));
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

// Q4_K, NR rows x NC columns: each row's codes and scales are unpacked once per 64 elements and
// used for every column; each column's activations are loaded once for every row.
namespace {

template <int NR, int NC>
struct Q4KTile {
  static void run(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out, int64_t os) {
    const __m512i nibble_shift = set_halves_i16(0, 4);  // low nibbles in bytes 0-31, high in 32-63
    __m512 acc[NR][NC];
    float min_sum[NR][NC];
    #pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        acc[r][c] = _mm512_setzero_ps();
        min_sum[r][c] = 0.0f;
      }
    }
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const BlockQ4_K* x[NR];
      const BlockQ8_K* y[NC];
      uint64_t sc[NR], m[NR];
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        x[r] = reinterpret_cast<const BlockQ4_K*>(w + r * ws) + i;
        unpack_scale_min_k4_words(x[r]->scales, &sc[r], &m[r]);
      }
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) y[c] = reinterpret_cast<const BlockQ8_K*>(a + c * as) + i;
      __m512i sumi[NR][NC];
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) sumi[r][c] = _mm512_setzero_si512();
      }
      #pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        __m512i q[NR], s[NR];
        #pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
          q[r] = and_bytes(_mm512_srlv_epi16(broadcast256(x[r]->qs + 32 * p), nibble_shift), 0x0f);
          s[r] = set_halves_i16(byte_of(sc[r], 2 * p), byte_of(sc[r], 2 * p + 1));
        }
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const __m512i yv = load512(y[c]->qs + 64 * p);
          #pragma GCC unroll 4
          for (int r = 0; r < NR; ++r) {
            sumi[r][c] = _mm512_add_epi32(sumi[r][c], _mm512_madd_epi16(_mm512_maddubs_epi16(q[r], yv), s[r]));
          }
        }
      }
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(fp16(x[r]->d) * y[c]->d), _mm512_cvtepi32_ps(sumi[r][c]), acc[r][c]);
          min_sum[r][c] += fp16(x[r]->dmin) * y[c]->d * static_cast<float>(mins_dot_bsums(m[r], *y[c]));
        }
      }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) out[c * os + r] = _mm512_reduce_add_ps(acc[r][c]) - min_sum[r][c];
    }
  }
};

}  // namespace

float dot_q4_k_q8_k_avx512(int64_t n, const void* w, const void* a) { return dot_as_tile<Q4KTile>(n, w, a); }

void dot_tile_q4_k_q8_k_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<Q4KTile>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

float dot_q5_k_q8_k_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i nibble_shift = set_halves_i16(0, 4);
  __m512 acc = _mm512_setzero_ps();
  float min_sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint64_t sc, m;
    unpack_scale_min_k4_words(x[i].scales, &sc, &m);
    const __m512i qh = broadcast256(x[i].qh);
    __m512i sumi = _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      const __m512i low = and_bytes(_mm512_srlv_epi16(broadcast256(x[i].qs + 32 * p), nibble_shift), 0x0f);
      const __m512i high = and_bytes(_mm512_srlv_epi16(qh, set_halves_i16(2 * p, 2 * p + 1)), 0x01);
      const __m512i q = _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
      const __m512i prod = _mm512_maddubs_epi16(q, load512(y[i].qs + 64 * p));
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(prod, set_halves_i16(byte_of(sc, 2 * p), byte_of(sc, 2 * p + 1))));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(fp16(x[i].d) * y[i].d), _mm512_cvtepi32_ps(sumi), acc);
    min_sum += fp16(x[i].dmin) * y[i].d * static_cast<float>(mins_dot_bsums(m, y[i]));
  }
  return _mm512_reduce_add_ps(acc) - min_sum;
}

// Q6_K: per 128-half, ql's 64 bytes give codes for elements 0-63 (low nibbles) and 64-127 (high
// nibbles) in order; qh's 32 bytes, seen twice, give their top bits at shifts 0|2 and 4|6.
// Codes u = q + 32 in [0, 63]: sum sc * (u - 32) * y = sum sc * u * y - 32 * sum sc * bsums.
namespace {

template <int NR, int NC>
struct Q6KTile {
  static void run(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out, int64_t os) {
    // int16 lane k of a maddubs result belongs to sub-block k / 8 of its 64 elements.
    const __m512i sub_of_lane = _mm512_cvtepu8_epi16(_mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m512i shift_a = set_halves_i16(0, 2), shift_b = set_halves_i16(4, 6);
    __m512 acc[NR][NC];
    float bias_sum[NR][NC];
    #pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        acc[r][c] = _mm512_setzero_ps();
        bias_sum[r][c] = 0.0f;
      }
    }
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const BlockQ6_K* x[NR];
      const BlockQ8_K* y[NC];
      __m256i sc16[NR];
      __m512i sc512[NR];
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        x[r] = reinterpret_cast<const BlockQ6_K*>(w + r * ws) + i;
        sc16[r] = _mm256_cvtepi8_epi16(load128(x[r]->scales));
        sc512[r] = _mm512_zextsi256_si512(sc16[r]);
      }
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) y[c] = reinterpret_cast<const BlockQ8_K*>(a + c * as) + i;
      __m512i sumi[NR][NC];
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) sumi[r][c] = _mm512_setzero_si512();
      }
      #pragma GCC unroll 4
      for (int h = 0; h < 2; ++h) {
        const __m512i ia = _mm512_add_epi16(sub_of_lane, _mm512_set1_epi16(static_cast<int16_t>(8 * h)));
        const __m512i ib = _mm512_add_epi16(sub_of_lane, _mm512_set1_epi16(static_cast<int16_t>(8 * h + 4)));
        __m512i ua[NR], ub[NR], sa[NR], sb[NR];
        #pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
          const __m512i l = load512(x[r]->ql + 64 * h);
          const __m512i qh = broadcast256(x[r]->qh + 32 * h);
          ua[r] = _mm512_or_si512(and_bytes(l, 0x0f), _mm512_slli_epi16(and_bytes(_mm512_srlv_epi16(qh, shift_a), 3), 4));
          ub[r] = _mm512_or_si512(and_bytes(_mm512_srli_epi16(l, 4), 0x0f),
                                  _mm512_slli_epi16(and_bytes(_mm512_srlv_epi16(qh, shift_b), 3), 4));
          sa[r] = _mm512_permutexvar_epi16(ia, sc512[r]);
          sb[r] = _mm512_permutexvar_epi16(ib, sc512[r]);
        }
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const __m512i ya = load512(y[c]->qs + 128 * h), yb = load512(y[c]->qs + 128 * h + 64);
          #pragma GCC unroll 4
          for (int r = 0; r < NR; ++r) {
            const __m512i pa = _mm512_madd_epi16(_mm512_maddubs_epi16(ua[r], ya), sa[r]);
            const __m512i pb = _mm512_madd_epi16(_mm512_maddubs_epi16(ub[r], yb), sb[r]);
            sumi[r][c] = _mm512_add_epi32(sumi[r][c], _mm512_add_epi32(pa, pb));
          }
        }
      }
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const int bias = _mm512_reduce_add_epi32(
              _mm512_zextsi256_si512(_mm256_madd_epi16(load256(&y[c]->bsums[0]), sc16[r])));
          const float d = fp16(x[r]->d) * y[c]->d;
          acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi[r][c]), acc[r][c]);
          bias_sum[r][c] += d * static_cast<float>(32 * bias);
        }
      }
    }
    #pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) out[c * os + r] = _mm512_reduce_add_ps(acc[r][c]) - bias_sum[r][c];
    }
  }
};

}  // namespace

float dot_q6_k_q8_k_avx512(int64_t n, const void* w, const void* a) { return dot_as_tile<Q6KTile>(n, w, a); }

void dot_tile_q6_k_q8_k_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<Q6KTile>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

}  // namespace hearth::quant
