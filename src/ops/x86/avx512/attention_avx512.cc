// The attention tile (attention_tile.h) for AVX-512 (F, BW, DQ, VL, VNNI).

#include "ops/attention_tile.h"
#include "ops/x86/avx512/simd_avx512.h"

namespace hearth::ops {

namespace {

// Q8_0 keys: two blocks of a key row per 64-byte vector. vpdpbusd multiplies unsigned by signed
// bytes, so the key codes are offset by 128 (k ^ 0x80 = k + 128 as unsigned) and the query codes
// stay signed: the sum gains 128 x the query block's code sum, which the accumulator starts
// from minus (corr8). Each lane sum is then scaled by the query's and the key's block scale.
struct AttnQ8Avx512 {
  static void dequant32(const uint8_t* blk, float* out) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(h));
    const __m128i* q = reinterpret_cast<const __m128i*>(blk + 2);
    _mm512_storeu_ps(out, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q)))));
    _mm512_storeu_ps(out + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q + 1)))));
  }

  // Q4_0: low nibbles are elements 0-15, high nibbles 16-31, each minus 8.
  static void dequant32_q4_0(const uint8_t* blk, float* out) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(h));
    const __m512 m8d = _mm512_mul_ps(d, _mm512_set1_ps(-8.0f));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(q, mask)));
    const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(q, 4), mask)));
    _mm512_storeu_ps(out, _mm512_fmadd_ps(lo, d, m8d));
    _mm512_storeu_ps(out + 16, _mm512_fmadd_ps(hi, d, m8d));
  }

  // Rows [m0, m0 + MR) x all keys, 4 keys at a time.
  template <int MR>
  static void rows(const AttnQ8Block& a, int64_t m0) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    // Lanes 0-7 take the first of two scales, lanes 8-15 the second.
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const int64_t nc = a.nblk2 / 2;
    for (int64_t j = 0; j < a.nk4; j += 4) {
      if (a.pf != nullptr) a.pf->step(MR * 4 * a.nblk * 32);
      const uint8_t* krow[4];
      for (int c = 0; c < 4; ++c) krow[c] = a.key(j + c);
      __m512 acc[MR][4];
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
      }
      for (int64_t ch = 0; ch < nc; ++ch) {
        // The second block of the last pair may be padding: not read (masked load), zero codes.
        const __mmask32 second = 2 * ch + 1 < a.nblk ? ~__mmask32{0} : __mmask32{0};
        __m512i ku[4];
        __m512 kd[4];
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          const uint8_t* b = krow[c] + 2 * ch * 34;
          const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
          const __m256i hi = _mm256_maskz_loadu_epi8(second, b + 36);
          ku[c] = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), flip);
          double two;
          std::memcpy(&two, a.kd + (j + c) * a.nblk2 + 2 * ch, sizeof(two));
          kd[c] = _mm512_permutexvar_ps(halves, _mm512_castpd_ps(_mm512_set1_pd(two)));
        }
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
          const int64_t m = m0 + r;
          const __m512i qv = _mm512_load_si512(a.qi + m * a.nblk2 * 32 + ch * 64);
          const __m512i corr = _mm512_load_si512(a.corr8 + m * a.nblk2 * 8 + ch * 16);
          const __m512 dq = _mm512_load_ps(a.dq8 + m * a.nblk2 * 8 + ch * 16);
#pragma GCC unroll 4
          for (int c = 0; c < 4; ++c) {
            const __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, ku[c], qv));
            acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dot, dq), kd[c], acc[r][c]);
          }
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        Avx512::hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], a.s + (m0 + r) * a.s_stride + j);
      }
    }
  }

  template <int R>
  static void rest(const AttnQ8Block& a, int64_t m0, int n) {
    if constexpr (R >= 1) {
      if (n == R) return rows<R>(a, m0);
      rest<R - 1>(a, m0, n);
    }
  }

  static void scores(const AttnQ8Block& a) {
    constexpr int R = 4;
    int64_t m = 0;
    for (; m + R <= a.n_q; m += R) rows<R>(a, m);
    rest<R - 1>(a, m, static_cast<int>(a.n_q - m));
  }
};

}  // namespace

void register_attention_avx512(AttentionKernels& k) {
  k.attend = attend_tile<Avx512, AttnQ8Avx512>;
  k.isa = "avx512";
}

}  // namespace hearth::ops
