// K-quants on AVX2: the Q8_K activation quantizer and the dots against it. Codes are unpacked
// to unsigned bytes (the sign offset of Q3_K / Q6_K is taken out afterwards through Q8_K's
// bsums), multiplied with the activations by maddubs (byte pairs into int16: at most
// 2 * 63 * 127, no saturation), and the int16 pair sums are weighted by the sub-block scales with
// madd into int32. One float multiply-add per super-block.

#include <immintrin.h>

#include "quant/blocks.h"
#include "quant/k_scales.h"
#include "quant/x86/avx2/avx2_util.h"
#include "quant/x86/avx2/kernels_avx2.h"
#include "quant/x86/tile.h"

namespace hearth::quant {

using namespace avx2;

namespace {

// int16 vector: scale a in lanes 0-7 (bytes 0-15 of a maddubs input), b in lanes 8-15.
inline __m256i scale_pair(int a, int b) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(b)), _mm_set1_epi16(static_cast<int16_t>(a)));
}

// int16 vector of signed byte scales sc8[j] in lanes 0-7 and sc8[j + 1] in lanes 8-15 (one
// shuffle and one widening, no trip through scalar registers).
inline __m256i scale_pair_from(__m128i sc8, int j) {
  const __m128i pick = _mm_add_epi8(_mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                    _mm_set1_epi8(static_cast<char>(j)));
  return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, pick));
}

inline __m256i load_bsums(const BlockQ8_K& y) { return load256(&y.bsums[0]); }

// sum_j m[j] * (bsums[2j] + bsums[2j + 1]) for the Q4_K / Q5_K mins: each min byte doubled,
// widened to int16, one madd against the 16 bsums.
inline int mins_dot_bsums(uint64_t m, const BlockQ8_K& y) {
  const __m128i mb = _mm_cvtsi64_si128(static_cast<long long>(m));
  const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mb, mb));
  return hsum_i32(_mm256_madd_epi16(load_bsums(y), m16));
}

inline __m256i mask_low(__m256i v, int shift, int mask) {
  return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8(static_cast<char>(mask)));
}

}  // namespace

void quantize_q8_k_avx2(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_K*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, _mm256_loadu_ps(src + k)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float max = _mm_cvtss_f32(m);
    const __m256 vid = _mm256_set1_ps(max != 0.0f ? 127.0f / max : 0.0f);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256i q[4];
      for (int j = 0; j < 4; ++j) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + k + 8 * j), vid);
        q[j] = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(round_away(v), lo), hi));
      }
      // Two bsums per 32 codes: q[0..1] are codes k..k+15, q[2..3] the next 16.
      b[i].bsums[k / 16] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[0], q[1])));
      b[i].bsums[k / 16 + 1] = static_cast<int16_t>(hsum_i32(_mm256_add_epi32(q[2], q[3])));
      const __m256i p8 = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b[i].qs + k),
                          _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    b[i].d = max / 127.0f;
  }
}

// Q4_K tiles: NR rows x NC columns; each row's codes are unpacked once for all columns.
namespace {

template <int NR, int NC>
struct Q4KTile {
  static void run(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out, int64_t os) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[NR][NC];
    float min_sum[NR][NC];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        acc[r][c] = _mm256_setzero_ps();
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
      __m256i sumi[NR][NC];
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) sumi[r][c] = _mm256_setzero_si256();
      }
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        __m256i lo[NR], hi[NR];
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
          const __m256i q = load256(x[r]->qs + 32 * p);
          lo[r] = _mm256_and_si256(q, m4);
          hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        }
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const __m256i ylo = load256(y[c]->qs + 64 * p), yhi = load256(y[c]->qs + 64 * p + 32);
#pragma GCC unroll 4
          for (int r = 0; r < NR; ++r) {
            const __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo[r], ylo), _mm256_set1_epi16(byte_of(sc[r], 2 * p)));
            const __m256i phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi[r], yhi), _mm256_set1_epi16(byte_of(sc[r], 2 * p + 1)));
            sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_add_epi32(plo, phi));
          }
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[r]->d) * y[c]->d), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
          min_sum[r][c] += fp16(x[r]->dmin) * y[c]->d * static_cast<float>(mins_dot_bsums(m[r], *y[c]));
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) out[c * os + r] = hsum(acc[r][c]) - min_sum[r][c];
    }
  }
};

}  // namespace

float dot_q4_k_q8_k_avx2(int64_t n, const void* w, const void* a) { return dot_as_tile<Q4KTile>(n, w, a); }

void dot_tile_q4_k_q8_k_avx2(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<Q4KTile, 2>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

float dot_q5_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  float min_sum = 0.0f;
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint64_t sc, m;
    unpack_scale_min_k4_words(x[i].scales, &sc, &m);
    const int msum = mins_dot_bsums(m, y[i]);
    const __m256i qh = load256(x[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      const __m256i q = load256(x[i].qs + 32 * p);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(mask_low(qh, 2 * p, 1), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                         _mm256_slli_epi16(mask_low(qh, 2 * p + 1, 1), 4));
      const __m256i plo = _mm256_maddubs_epi16(lo, load256(y[i].qs + 64 * p));
      const __m256i phi = _mm256_maddubs_epi16(hi, load256(y[i].qs + 64 * p + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_set1_epi16(byte_of(sc, 2 * p))));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_set1_epi16(byte_of(sc, 2 * p + 1))));
    }
    const float d = fp16(x[i].d) * y[i].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    min_sum += fp16(x[i].dmin) * y[i].d * static_cast<float>(msum);
  }
  return hsum(acc) - min_sum;
}

namespace {

// Q6_K: codes u = q + 32 in [0, 63]; sum sc * (u - 32) * y = sum sc * u * y - 32 * sum sc * bsums.
// NR rows x NC columns; each row's codes are unpacked once per 128 elements for all columns.
template <int NR, int NC>
struct Q6KTile {
  static void run(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out, int64_t os) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    float sum[NR][NC];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) sum[r][c] = 0.0f;
    }
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const BlockQ6_K* x[NR];
      const BlockQ8_K* y[NC];
      __m128i sc8[NR];
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        x[r] = reinterpret_cast<const BlockQ6_K*>(w + r * ws) + i;
        sc8[r] = load128(x[r]->scales);
      }
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) y[c] = reinterpret_cast<const BlockQ8_K*>(a + c * as) + i;
      __m256i sumi[NR][NC];
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) sumi[r][c] = _mm256_setzero_si256();
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
          __m256i u[NR], sp[NR];
#pragma GCC unroll 4
          for (int r = 0; r < NR; ++r) {
            const __m256i l = load256(x[r]->ql + 64 * h + 32 * (g & 1));
            const __m256i qh = load256(x[r]->qh + 32 * h);
            const __m256i low = g < 2 ? _mm256_and_si256(l, m4) : mask_low(l, 4, 0x0f);
            u[r] = _mm256_or_si256(low, _mm256_slli_epi16(mask_low(qh, 2 * g, 3), 4));
            sp[r] = scale_pair_from(sc8[r], 8 * h + 2 * g);
          }
#pragma GCC unroll 4
          for (int c = 0; c < NC; ++c) {
            const __m256i yv = load256(y[c]->qs + 128 * h + 32 * g);
#pragma GCC unroll 4
            for (int r = 0; r < NR; ++r) {
              sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(u[r], yv), sp[r]));
            }
          }
        }
      }
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8[r]);
#pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const int bias = hsum_i32(_mm256_madd_epi16(load_bsums(*y[c]), sc16));
          const int isum = hsum_i32(sumi[r][c]) - 32 * bias;
          sum[r][c] += fp16(x[r]->d) * y[c]->d * static_cast<float>(isum);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) out[c * os + r] = sum[r][c];
    }
  }
};

}  // namespace

float dot_q6_k_q8_k_avx2(int64_t n, const void* w, const void* a) { return dot_as_tile<Q6KTile>(n, w, a); }

void dot_tile_q6_k_q8_k_avx2(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<Q6KTile, 2>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

// Q3_K: codes u = q + 4 in [0, 7] (low 2 bits, plus 4 when the hmask bit is set).
float dot_q3_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    // Scales built in registers (a 16-byte reload of just-stored bytes would stall the store
    // forwarding every block).
    uint32_t words[4];
    unpack_scales_q3_k_biased_words(x[i].scales, words);
    const __m128i biased = _mm_setr_epi32(static_cast<int>(words[0]), static_cast<int>(words[1]),
                                          static_cast<int>(words[2]), static_cast<int>(words[3]));
    const __m128i sc8 = _mm_sub_epi8(biased, _mm_set1_epi8(32));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    const int bias = hsum_i32(_mm256_madd_epi16(load_bsums(y[i]), sc16));
    const __m256i hm = load256(x[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load256(x[i].qs + 32 * h);
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const __m256i u = _mm256_or_si256(mask_low(q, 2 * s, 3), _mm256_slli_epi16(mask_low(hm, 4 * h + s, 1), 2));
        const __m256i p = _mm256_maddubs_epi16(u, load256(y[i].qs + 128 * h + 32 * s));
        const int j = 8 * h + 2 * s;
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair_from(sc8, j)));
      }
    }
    const int isum = hsum_i32(sumi) - 4 * bias;
    sum += fp16(x[i].d) * y[i].d * static_cast<float>(isum);
  }
  return sum;
}

// Q2_K: codes in [0, 3], 4-bit scales and mins per 16.
float dot_q2_k_q8_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m128i raw = load128(x[i].scales);
    const __m256i m16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f)));
    const int msum = hsum_i32(_mm256_madd_epi16(load_bsums(y[i]), m16));
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i q = load256(x[i].qs + 32 * h);
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const __m256i p = _mm256_maddubs_epi16(mask_low(q, 2 * s, 3), load256(y[i].qs + 128 * h + 32 * s));
        const int j = 8 * h + 2 * s;
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale_pair(x[i].scales[j] & 0xf, x[i].scales[j + 1] & 0xf)));
      }
    }
    sum += y[i].d * (fp16(x[i].d) * static_cast<float>(hsum_i32(sumi)) -
                     fp16(x[i].dmin) * static_cast<float>(msum));
  }
  return sum;
}

}  // namespace hearth::quant
