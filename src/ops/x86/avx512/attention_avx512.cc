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
  // (ku) and the tile's converted scales, the first block's in lanes 0-7, the second's in 8-15
  // (kd). The second block of the last pair may be padding: not read, zero codes and scale.
  static void key_pair(const AttnQ8Block& a, const uint8_t* b, int64_t j, int64_t ch, bool second, __m512i& ku,
                       __m512& kd) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 2));
    const __m256i hi = _mm256_maskz_loadu_epi8(second ? ~__mmask32{0} : __mmask32{0}, b + 36);
    ku = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), flip);
    double two;
    std::memcpy(&two, a.kd + j * a.nblk2 + 2 * ch, sizeof(two));
    kd = _mm512_permutexvar_ps(halves, _mm512_castpd_ps(_mm512_set1_pd(two)));
  }

  // Prompt tiles (a.kd set, no prefetch walk): rows [m0, m0 + MR) x all keys, 4 keys at a time.
  template <int MR>
  static void rows(const AttnQ8Block& a, int64_t m0) {
    const int64_t nc = a.nblk2 / 2;
    for (int64_t j = 0; j < a.nk4; j += 4) {
      const uint8_t* krow[4];
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) krow[c] = a.key(j + c);
      __m512 acc[MR][4];
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
      }
      for (int64_t ch = 0; ch < nc; ++ch) {
        const bool second = 2 * ch + 1 < a.nblk;
        __m512i ku[4];
        __m512 kd[4];
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) key_pair(a, krow[c] + 2 * ch * 34, j + c, ch, second, ku[c], kd[c]);
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

  // acc + vpdpbusd(k, the 4 query codes at q broadcast), the broadcast folded into the instruction
  // (GCC 12 does not fold _mm512_set1_epi32 into {1to16}).
  static __m512i dpbusd_bcast(__m512i acc, __m512i k, const int8_t* q) {
    asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(k), "m"(*reinterpret_cast<const int32_t*>(q)));
    return acc;
  }

  // The 32 codes at krow[l] + off of 16 keys l, transposed: t[g] lane l holds codes 4g..4g+3 of
  // key l, each plus 128. An 8 x 8 transpose of 4-byte groups in each 256-bit half (keys 0-7 in
  // the low half, 8-15 in the high), the halves' 128-bit lanes joined at the end.
  __attribute__((always_inline)) static inline void transpose16(const uint8_t* const* krow, int64_t off, __m512i t[8]) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512i z[8], lo[4], hi[4], u[8];
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(krow[k] + off));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(krow[k + 8] + off));
      z[k] = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1), flip);
    }
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      lo[p] = _mm512_unpacklo_epi32(z[2 * p], z[2 * p + 1]);
      hi[p] = _mm512_unpackhi_epi32(z[2 * p], z[2 * p + 1]);
    }
    // u[h * 4 + c]: rows 4h..4h+3 of columns c (128-bit lanes 0, 2) and c + 4 (lanes 1, 3).
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      u[h * 4 + 0] = _mm512_unpacklo_epi64(lo[2 * h], lo[2 * h + 1]);
      u[h * 4 + 1] = _mm512_unpackhi_epi64(lo[2 * h], lo[2 * h + 1]);
      u[h * 4 + 2] = _mm512_unpacklo_epi64(hi[2 * h], hi[2 * h + 1]);
      u[h * 4 + 3] = _mm512_unpackhi_epi64(hi[2 * h], hi[2 * h + 1]);
    }
    const __m512i first = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);    // lanes 0, 2 of each
    const __m512i second = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);  // lanes 1, 3 of each
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      t[c] = _mm512_permutex2var_epi64(u[c], first, u[4 + c]);
      t[c + 4] = _mm512_permutex2var_epi64(u[c], second, u[4 + c]);
    }
  }

  // Decode (a.kd null): rows [m0, m0 + MR) x all keys, 16 keys at a time in the 16 lanes of a
  // register. Each key block is transposed (transpose16) so that a query's 4 codes, broadcast,
  // multiply all 16 keys in one vpdpbusd: a score needs no horizontal sum, and the int-to-float
  // step and the scales of a block serve 16 keys instead of one.
  template <int MR>
  static void decode_rows(const AttnQ8Block& a, int64_t m0) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i row_offsets = _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int32_t>(a.row_bytes)));
    for (int64_t j0 = 0; j0 < a.nk; j0 += 16) {
      const uint8_t* krow[16];
#pragma GCC unroll 16
      for (int l = 0; l < 16; ++l) krow[l] = a.key(j0 + l);
      const int64_t live = std::min<int64_t>(16, a.nk - j0);
      const __mmask16 live_mask = static_cast<__mmask16>((1u << live) - 1);
      __m512 sf[MR];
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) sf[r] = _mm512_setzero_ps();
      for (int64_t b = 0; b < a.nblk; ++b) {
        // Told per block of codes, not per 16 keys: ~40 lines asked for at once made
        // decode_ctx16384_q8_0_cold 12 % slower on 1 and 2 threads (634-649 -> 559-564 us, 342-352
        // -> 300-312) than ~10 at a time.
        if (a.pf != nullptr) a.pf->step(MR * 16 * 32);
        __m512i t[8];
        transpose16(krow, b * 34 + 2, t);
        // The 16 keys' block scales (the 2 bytes before the codes; keys past nk: 0).
        const __m512i h = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live_mask,
                                                      _mm512_add_epi32(row_offsets, _mm512_set1_epi32(static_cast<int32_t>(b * 34))),
                                                      krow[0], 1);
        const __m512 kd = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h));
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
          const int64_t m = m0 + r;
          const int8_t* q = a.qi + m * a.nblk2 * 32 + b * 32;
          __m512i acc = _mm512_set1_epi32(a.corr8[m * a.nblk2 * 8 + b * 8]);
#pragma GCC unroll 8
          for (int g = 0; g < 8; ++g) acc = dpbusd_bcast(acc, t[g], q + 4 * g);
          const __m512 kdq = _mm512_mul_ps(kd, _mm512_set1_ps(a.dq8[m * a.nblk2 * 8 + b * 8]));
          sf[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), kdq, sf[r]);
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) _mm512_storeu_ps(a.s + (m0 + r) * a.s_stride + j0, sf[r]);
    }
  }

  template <int R>
  static void decode_rest(const AttnQ8Block& a, int64_t m0, int n) {
    if constexpr (R >= 1) {
      if (n == R) return decode_rows<R>(a, m0);
      decode_rest<R - 1>(a, m0, n);
    }
  }

  static void scores(const AttnQ8Block& a) {
    if (a.kd == nullptr) {  // decode
      for (int64_t m = 0; m < a.n_q; m += 16) decode_rest<16>(a, m, static_cast<int>(std::min<int64_t>(16, a.n_q - m)));
      return;
    }
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
