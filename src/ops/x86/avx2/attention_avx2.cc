// The attention tile (attention_tile.h) for AVX2 + FMA + F16C.

#include "ops/attention_tile.h"
#include "ops/x86/avx2/simd_avx2.h"

namespace hearth::ops {

namespace {

// Q8_0 keys, one block (32 bytes) per vector. vpmaddubsw multiplies unsigned by signed bytes
// into saturating int16 pairs: |k| as the unsigned side and q with k's sign as the signed one
// (|k| <= 128, |q| <= 127: a pair sums to at most 32512, no saturation), then vpmaddwd with ones
// sums pairs to int32 lanes, scaled by the query's and the key's block scale.
struct AttnQ8Avx2 {
  static float quantize_query_block(const float* x, int8_t* q) { return kv_quantize_query_block(x, q); }
  static void dequant32(const uint8_t* blk, float* out) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(h));
    const int8_t* q = reinterpret_cast<const int8_t*>(blk + 2);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i * 8));
      _mm256_storeu_ps(out + i * 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b))));
    }
  }

  // Q4_0: low nibbles are elements 0-15, high nibbles 16-31, each minus 8.
  static void dequant32_q4_0(const uint8_t* blk, float* out) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(h));
    const __m256 m8d = _mm256_mul_ps(d, _mm256_set1_ps(-8.0f));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m128i nib[2] = {_mm_and_si128(q, mask), _mm_and_si128(_mm_srli_epi16(q, 4), mask)};
#pragma GCC unroll 2
    for (int half = 0; half < 2; ++half) {
      const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(nib[half]));
      const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(nib[half], 8)));
      _mm256_storeu_ps(out + half * 16, _mm256_fmadd_ps(lo, d, m8d));
      _mm256_storeu_ps(out + half * 16 + 8, _mm256_fmadd_ps(hi, d, m8d));
    }
  }

  // Prompt tiles (a.kd set, no prefetch walk): rows [m0, m0 + MR) x all keys, 4 keys at a time
  // (16 ymm registers: MR = 2).
  template <int MR>
  static void rows(const AttnQ8Block& a, int64_t m0) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t j = 0; j < a.nk4; j += 4) {
      const uint8_t* krow[4];
      for (int c = 0; c < 4; ++c) krow[c] = a.key(j + c);
      __m256 acc[MR][4];
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) acc[r][c] = _mm256_setzero_ps();
      }
      for (int64_t b = 0; b < a.nblk; ++b) {
        __m256i kabs[4], kq[4];
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          kq[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(krow[c] + b * 34 + 2));
          kabs[c] = _mm256_abs_epi8(kq[c]);
        }
#pragma GCC unroll 16
        for (int r = 0; r < MR; ++r) {
          const int64_t m = m0 + r;
          const __m256i qv = _mm256_load_si256(reinterpret_cast<const __m256i*>(a.qi + m * a.nblk2 * 32 + b * 32));
          const __m256 dq = _mm256_load_ps(a.dq8 + m * a.nblk2 * 8 + b * 8);
#pragma GCC unroll 4
          for (int c = 0; c < 4; ++c) {
            const __m256i p16 = _mm256_maddubs_epi16(kabs[c], _mm256_sign_epi8(qv, kq[c]));
            const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, ones));
            const __m256 dk = _mm256_broadcast_ss(a.kd + (j + c) * a.nblk2 + b);
            acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(dot, dq), dk, acc[r][c]);
          }
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        Avx2::hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], a.s + (m0 + r) * a.s_stride + j);
      }
    }
  }

  // The 32 codes at krow[l] + off of 8 keys l, transposed: t[g] lane l holds codes 4g..4g+3 of
  // key l (an 8 x 8 transpose of 4-byte groups; the 128-bit halves joined at the end).
  static void transpose8(const uint8_t* const* krow, int64_t off, __m256i t[8]) {
    __m256i z[8], a[8], b[8];
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) z[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(krow[k] + off));
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      a[2 * p] = _mm256_unpacklo_epi32(z[2 * p], z[2 * p + 1]);      // groups 0, 1 | 4, 5 of keys 2p, 2p + 1
      a[2 * p + 1] = _mm256_unpackhi_epi32(z[2 * p], z[2 * p + 1]);  // groups 2, 3 | 6, 7
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {  // keys 4h..4h+3
      b[4 * h + 0] = _mm256_unpacklo_epi64(a[4 * h], a[4 * h + 2]);      // group 0 | 4
      b[4 * h + 1] = _mm256_unpackhi_epi64(a[4 * h], a[4 * h + 2]);      // group 1 | 5
      b[4 * h + 2] = _mm256_unpacklo_epi64(a[4 * h + 1], a[4 * h + 3]);  // group 2 | 6
      b[4 * h + 3] = _mm256_unpackhi_epi64(a[4 * h + 1], a[4 * h + 3]);  // group 3 | 7
    }
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      t[g] = _mm256_permute2x128_si256(b[g], b[4 + g], 0x20);
      t[g + 4] = _mm256_permute2x128_si256(b[g], b[4 + g], 0x31);
    }
  }

  // Decode (a.kd null): rows [m0, m0 + MR) x all keys, 8 keys at a time in the 8 lanes of a
  // register, as AVX-512's decode_rows does with 16: a query's 4 codes, broadcast, multiply 8 keys'
  // in one vpmaddubsw + vpmaddwd, with no horizontal sums and one scale step per block for 8 keys.
  // The keys' magnitudes stay in registers; their transposed codes (for the signs) are read from
  // a stack copy: 16 ymm registers hold no more.
  template <int MR>
  static void decode_rows(const AttnQ8Block& a, int64_t m0) {
    const __m256i ones = _mm256_set1_epi16(1);
    alignas(32) __m256i t[8];
    for (int64_t j0 = 0; j0 < a.nk; j0 += 8) {
      const uint8_t* krow[8];
#pragma GCC unroll 8
      for (int l = 0; l < 8; ++l) krow[l] = a.key(j0 + l);
      __m256 sf[MR];
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) sf[r] = _mm256_setzero_ps();
      for (int64_t b = 0; b < a.nblk; ++b) {
        if (a.pf != nullptr) a.pf->step(MR * 8 * 32);
        transpose8(krow, b * 34 + 2, t);
        __m256i kabs[8];
#pragma GCC unroll 8
        for (int g = 0; g < 8; ++g) kabs[g] = _mm256_abs_epi8(t[g]);
        alignas(16) uint16_t h[8];
#pragma GCC unroll 8
        for (int l = 0; l < 8; ++l) std::memcpy(&h[l], krow[l] + b * 34, 2);
        const __m256 kd = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
          const int64_t m = m0 + r;
          const int8_t* q = a.qi + m * a.nblk2 * 32 + b * 32;
          __m256i acc = _mm256_setzero_si256();
#pragma GCC unroll 8
          for (int g = 0; g < 8; ++g) {
            int32_t q4;
            std::memcpy(&q4, q + 4 * g, 4);
            const __m256i x = _mm256_sign_epi8(_mm256_set1_epi32(q4), t[g]);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(kabs[g], x), ones));
          }
          const __m256 kdq = _mm256_mul_ps(kd, _mm256_set1_ps(a.dq8[m * a.nblk2 * 8 + b * 8]));
          sf[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), kdq, sf[r]);
        }
      }
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) _mm256_storeu_ps(a.s + (m0 + r) * a.s_stride + j0, sf[r]);
    }
  }

  static void scores(const AttnQ8Block& a) {
    if (a.kd == nullptr) {  // decode
      int64_t m = 0;
      for (; m + 3 <= a.n_q; m += 3) decode_rows<3>(a, m);
      if (m + 2 == a.n_q) decode_rows<2>(a, m);
      if (m + 1 == a.n_q) decode_rows<1>(a, m);
      return;
    }
    int64_t m = 0;
    for (; m + 2 <= a.n_q; m += 2) rows<2>(a, m);
    if (m < a.n_q) rows<1>(a, m);
  }
};

}  // namespace

void register_attention_avx2(AttentionKernels& k) {
  k.attend = attend_tile<Avx2, AttnQ8Avx2>;
  k.isa = "avx2";
}

}  // namespace hearth::ops
