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
  // kv_quantize_query_block a vector at a time: the same scale, products and rounding (to
  // nearest even, as nearbyint in the default mode), so the same codes.
  static float quantize_query_block(const float* x, int8_t* q) {
    const __m512 lo = _mm512_loadu_ps(x), hi = _mm512_loadu_ps(x + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
    if (!(amax >= 1e-30f)) {
      std::memset(q, 0, 32);
      return 0.0f;
    }
    const float d = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(1.0f / d);
    const __m512 lim = _mm512_set1_ps(127.0f), neg = _mm512_set1_ps(-127.0f);
    auto codes = [&](__m512 v) {
      const __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(v, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      return _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r, neg), lim)));
    };
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), codes(lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), codes(hi));
    return d;
  }

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

  // Blocks 2 ch and 2 ch + 1 of key j (its row's pair at b) as 16 lanes: codes offset by 128
  // (ku) and scales, the first block's in lanes 0-7, the second's in 8-15 (kd). The second block
  // of the last pair may be padding: not read, zero codes and scale.
  static void key_pair(const AttnQ8Block& a, const uint8_t* b, int64_t j, int64_t ch, bool second, __m512i& ku,
                       __m512& kd) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    const __m256i hi = _mm256_maskz_loadu_epi8(second ? ~__mmask32{0} : __mmask32{0}, b + 36);
    ku = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), flip);
    if (a.kd != nullptr) {  // converted by the tile
      double two;
      std::memcpy(&two, a.kd + j * a.nblk2 + 2 * ch, sizeof(two));
      kd = _mm512_permutexvar_ps(halves, _mm512_castpd_ps(_mm512_set1_pd(two)));
      return;
    }
    uint16_t h0, h1 = 0;
    std::memcpy(&h0, b, 2);
    if (second) std::memcpy(&h1, b + 34, 2);
    const __m128 two = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(h0 | static_cast<uint32_t>(h1) << 16)));
    kd = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(two));
  }

  // Rows [m0, m0 + MR) x all keys, NK (4 or 2) keys at a time. Prompt tiles take 4 rows x 4 keys;
  // decode tiles 2 keys, so that up to 8 rows (a KV head's queries, for most models) take one pass
  // and each key's codes are loaded and offset once.
  template <int MR, int NK>
  static void rows(const AttnQ8Block& a, int64_t m0) {
    static_assert(NK == 4 || NK == 2, "4-way sums of one row's 4 keys or two rows' 2 keys");
    const int64_t nc = a.nblk2 / 2;
    for (int64_t j = 0; j < a.nk4; j += NK) {
      if (a.pf != nullptr) a.pf->step(MR * NK * a.nblk * 32);
      const uint8_t* krow[NK];
#pragma GCC unroll 4
      for (int c = 0; c < NK; ++c) krow[c] = a.key(j + c);
      __m512 acc[MR][NK];
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < NK; ++c) acc[r][c] = _mm512_setzero_ps();
      }
      for (int64_t ch = 0; ch < nc; ++ch) {
        const bool second = 2 * ch + 1 < a.nblk;
        __m512i ku[NK];
        __m512 kd[NK];
#pragma GCC unroll 4
        for (int c = 0; c < NK; ++c) key_pair(a, krow[c] + 2 * ch * 34, j + c, ch, second, ku[c], kd[c]);
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
          const int64_t m = m0 + r;
          const __m512i qv = _mm512_load_si512(a.qi + m * a.nblk2 * 32 + ch * 64);
          const __m512i corr = _mm512_load_si512(a.corr8 + m * a.nblk2 * 8 + ch * 16);
          const __m512 dq = _mm512_load_ps(a.dq8 + m * a.nblk2 * 8 + ch * 16);
#pragma GCC unroll 4
          for (int c = 0; c < NK; ++c) {
            const __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(corr, ku[c], qv));
            acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dot, dq), kd[c], acc[r][c]);
          }
        }
      }
      float* s = a.s + m0 * a.s_stride + j;
      if constexpr (NK == 4) {
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) Avx512::hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], s + r * a.s_stride);
      } else {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r += 2) {
          const int r1 = r + 1 < MR ? r + 1 : r;  // an odd last row sums itself twice
          float four[4];
          Avx512::hsum4(acc[r][0], acc[r][1], acc[r1][0], acc[r1][1], four);
          s[r * a.s_stride] = four[0];
          s[r * a.s_stride + 1] = four[1];
          s[r1 * a.s_stride] = four[2];
          s[r1 * a.s_stride + 1] = four[3];
        }
      }
    }
  }

  template <int R, int NK>
  static void rest(const AttnQ8Block& a, int64_t m0, int n) {
    if constexpr (R >= 1) {
      if (n == R) return rows<R, NK>(a, m0);
      rest<R - 1, NK>(a, m0, n);
    }
  }

  static void scores(const AttnQ8Block& a) {
    if (a.kd == nullptr) {  // decode
      for (int64_t m = 0; m < a.n_q; m += 8) rest<8, 2>(a, m, static_cast<int>(std::min<int64_t>(8, a.n_q - m)));
      return;
    }
    constexpr int R = 4;
    int64_t m = 0;
    for (; m + R <= a.n_q; m += R) rows<R, 4>(a, m);
    rest<R - 1, 4>(a, m, static_cast<int>(a.n_q - m));
  }
};

}  // namespace

void register_attention_avx512(AttentionKernels& k) {
  k.attend = attend_tile<Avx512, AttnQ8Avx512>;
  k.isa = "avx512";
}

}  // namespace hearth::ops
