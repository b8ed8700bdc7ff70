#pragma once
// The AVX-512 (F, DQ, + F16C/FMA) vector type the ISA-agnostic op templates (attention_tile.h,
// activation_simd.h) are instantiated with. Only files under x86/avx512/ include this; the name
// Avx512 keeps every instantiation's symbols distinct from the other tiers'.

#include <immintrin.h>

#include <cstdint>
#include <cstring>

// GCC 12 reports the _mm512_undefined_* placeholder inside its own intrinsics (cvtph_ps,
// cvtps_pd, permute_ps, castps512_ps256...) as (maybe-)uninitialized once they are inlined here: a false
// positive of its headers, silenced for the files that include this one (all AVX-512 op files).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace hearth::ops {

struct Avx512 {
  using V = __m512;
  static constexpr int kLanes = 16;
  // Register tiles of the attention kernels (32 zmm registers): 24 accumulators each. 6 rows (not
  // 4 x 4 keys and 3 x 8 vectors) load each K and V vector for more queries: K and V blocks are
  // read from L2 (64 keys x 128 x 4 bytes each) and that traffic was the limit (11-15% faster on
  // ops_attention prompt512_ctx4096 and decode_ctx4096; 4 x 6, 8 x 3 and 2 x 12 were slower).
  static constexpr int kScoreRows = 6;  // query rows x 4 keys of accumulators
  static constexpr int kAccRows = 6;    // query rows x kAccVecs vectors of output
  static constexpr int kAccVecs = 4;
  // Tiled keys (attn_scores_tiles): query rows x tiles of 16 keys, a whole block of 64 at a time.
  static constexpr int kTileScoreRows = 6;
  static constexpr int kTileScoreTiles = 4;

  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  // The f16 at p (any alignment) in every lane.
  static V set1_f16(const void* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof(h));
    return _mm512_cvtph_ps(_mm256_set1_epi16(static_cast<short>(h)));
  }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static V load(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }  // a * b + c
  // (a1, a0, a3, a2, ...): swaps the elements of each pair (RoPE's normal mode).
  static V swap_pairs(V v) { return _mm512_permute_ps(v, 0xb1); }

  static __m256 fold(V v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  }
  static float hsum(V v) {
    const __m256 h = fold(v);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(V v) {
    const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // out[0..4) = the sums of a, b, c, d: 13 operations (8 shuffles) where halving each vector
  // first took 19 (11 shuffles); the attention scores' reduction, on the FMAs' port 5.
  static void hsum4(V a, V b, V c, V d, float* out) {
    // Per 128-bit lane: [a0 + a2, b0 + b2, a1 + a3, b1 + b3], the same for c, d.
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    // Per lane: a lane's sums of a, b, c, d; then the four lanes added.
    const __m512 s = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 t = _mm512_add_ps(s, _mm512_shuffle_f32x4(s, s, _MM_SHUFFLE(1, 0, 3, 2)));
    const __m512 u = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
    _mm_storeu_ps(out, _mm512_castps512_ps128(u));
  }

  // n halves to floats.
  static void f16_to_f32(const uint16_t* src, int64_t n, float* dst) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
    }
    for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
  }

  // Sum of squares of n floats, accumulated in double.
  static double sum_squares(const float* x, int64_t n) {
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m512d lo = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
      const __m512d hi = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8));
      a0 = _mm512_fmadd_pd(lo, lo, a0);
      a1 = _mm512_fmadd_pd(hi, hi, a1);
    }
    double ss = _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
    for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    return ss;
  }

  // e^x, the same method and constants as Avx2::exp (see activation_simd.h for the error).
  static V exp(V x) {
    const __m512 lo = _mm512_set1_ps(-87.33654f);
    const __m512 xc = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(lo, x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723212e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i e = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    const __m512 res = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
    return _mm512_maskz_mov_ps(~_mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), res);
  }
};

}  // namespace hearth::ops
