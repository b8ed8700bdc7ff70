#pragma once
// The AVX2 (+FMA, F16C) vector type the ISA-agnostic op templates (attention_tile.h,
// activation_simd.h) are instantiated with. Only files under x86/avx2/ include this; the name Avx2
// keeps every instantiation's symbols distinct from the other tiers'.

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace hearth::ops {

struct Avx2 {
  using V = __m256;
  static constexpr int kLanes = 8;
  // Register tiles of the attention kernels (16 ymm registers).
  static constexpr int kScoreRows = 2;  // query rows x 4 keys of accumulators
  static constexpr int kAccRows = 3;    // query rows x kAccVecs vectors of output
  static constexpr int kAccVecs = 4;
  // Tiled keys (attn_scores_tiles): query rows x tiles of 16 keys (2 vectors a tile). 6 x 1 (12
  // accumulators) converts each key vector once for 6 queries; 2 x 2 converted it for 2.
  // hearth_bench, AVX2, alternated: decode_ctx16384 1 thread 1105-1166 -> 1033-1069 us,
  // prompt512_ctx4096 2 threads 61.9-67.7 -> 57.6-58.4 ms (keys in rows: 1146 us, 69.4 ms).
  static constexpr int kTileScoreRows = 6;
  static constexpr int kTileScoreTiles = 1;

  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  // The f16 at p (any alignment) in every lane.
  static V set1_f16(const void* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof(h));
    return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h)));
  }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static V load(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }  // a * b + c
  // (a1, a0, a3, a2, ...): swaps the elements of each pair (RoPE's normal mode).
  static V swap_pairs(V v) { return _mm256_permute_ps(v, 0xb1); }

  static float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // out[0..4) = the sums of a, b, c, d.
  static void hsum4(V a, V b, V c, V d, float* out) {
    const __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }

  // n halves to floats.
  static void f16_to_f32(const uint16_t* src, int64_t n, float* dst) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    }
    for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
  }

  // Sum of squares of n floats, accumulated in double.
  static double sum_squares(const float* x, int64_t n) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
      const __m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
      a0 = _mm256_fmadd_pd(lo, lo, a0);
      a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    a0 = _mm256_add_pd(a0, a1);
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a0), _mm256_extractf128_pd(a0, 1));
    double ss = _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    return ss;
  }

  // e^x; activation_simd.h states the method and its measured error (about 1 ulp). Inputs below
  // -87.336 (where e^x leaves the normal floats), -inf included, give 0; above 88, e^88.
  static V exp(V x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    // max/min with x second: a NaN x comes through as NaN.
    const __m256 xc = _mm256_min_ps(_mm256_set1_ps(88.0f), _mm256_max_ps(lo, x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860682030941723212e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 res = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), res);
  }
};

}  // namespace hearth::ops
