// 32-element formats on AVX-512: two blocks per 512-bit register, integer dots by VNNI, and
// tiles of several weight rows x activation columns (quant/x86/tile.h).

#include <immintrin.h>

#include <cstring>

#include "quant/blocks.h"
#include "quant/fp4.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/avx512/kernels_avx512.h"
#include "quant/x86/tile.h"

namespace hearth::quant {

using namespace avx512;

namespace {

inline uint16_t to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// A block's 16 nibble bytes as 32 codes in element order (low nibbles, then high ones).
inline __m256i nibbles(const uint8_t* qs) {
  const __m128i b = load128(qs);
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0f));
}

inline __m512i nibbles2(const uint8_t* qs0, const uint8_t* qs1) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(nibbles(qs0)), nibbles(qs1), 1);
}

inline uint64_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Tiles of NR weight rows x NC Q8_0 activation columns over a 32-block format F, two blocks per
// register: F::codes2(x, i) gives blocks i and i + 1's codes as signed bytes, F::codes1(x, i) one
// block's (the tail), F::scale(block) its scale. Each row's |codes| and signs are computed once for all columns.
template <class F>
struct LegacyTile {
  template <int NR, int NC>
  struct K {
    static void run(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out,
                    int64_t os) {
      using Block = typename F::Block;
      const Block* x[NR];
      const BlockQ8_0* y[NC];
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) x[r] = reinterpret_cast<const Block*>(w + r * ws);
      #pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) y[c] = reinterpret_cast<const BlockQ8_0*>(a + c * as);
      __m512 acc[NR][NC];
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_setzero_ps();
      }
      const int64_t nb = n / kQK;
      int64_t i = 0;
      for (; i + 2 <= nb; i += 2) {
        __m512i ax[NR];
        __mmask64 neg[NR];
        __m512 dx[NR];
        #pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
          const __m512i q = F::codes2(x[r], i);
          ax[r] = _mm512_abs_epi8(q);
          neg[r] = _mm512_movepi8_mask(q);
          dx[r] = set_halves(F::scale(x[r][i]), F::scale(x[r][i + 1]));
        }
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          const __m512i yv = load2x256(y[c][i].qs, y[c][i + 1].qs);
          const __m512 dy = set_halves(fp16(y[c][i].d), fp16(y[c][i + 1].d));
          #pragma GCC unroll 4
          for (int r = 0; r < NR; ++r) {
            const __m512i sy = _mm512_mask_sub_epi8(yv, neg[r], _mm512_setzero_si512(), yv);
            const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ax[r], sy);
            acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dx[r], dy), _mm512_cvtepi32_ps(p), acc[r][c]);
          }
        }
      }
      #pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        #pragma GCC unroll 4
        for (int c = 0; c < NC; ++c) {
          float sum = _mm512_reduce_add_ps(acc[r][c]);
          if (i < nb) {
            const __m512i p = dot_i8(_mm512_zextsi256_si512(F::codes1(x[r], i)),
                                     _mm512_zextsi256_si512(load256(y[c][i].qs)));
            sum += F::scale(x[r][i]) * fp16(y[c][i].d) * static_cast<float>(_mm512_mask_reduce_add_epi32(0x00ff, p));
          }
          out[c * os + r] = sum;
        }
      }
    }
  };
};

struct Q8_0Codes {
  using Block = BlockQ8_0;
  static __m512i codes2(const Block* x, int64_t i) { return load2x256(x[i].qs, x[i + 1].qs); }
  static __m256i codes1(const Block* x, int64_t i) { return load256(x[i].qs); }
  static float scale(const Block& b) { return fp16(b.d); }
};

struct Q4_0Codes {
  using Block = BlockQ4_0;
  static __m512i codes2(const Block* x, int64_t i) {
    return _mm512_sub_epi8(nibbles2(x[i].qs, x[i + 1].qs), _mm512_set1_epi8(8));
  }
  static __m256i codes1(const Block* x, int64_t i) { return _mm256_sub_epi8(nibbles(x[i].qs), _mm256_set1_epi8(8)); }
  static float scale(const Block& b) { return fp16(b.d); }
};

// q - 16 as a signed byte: the nibble where the fifth bit is set, the nibble | 0xf0 where not.
struct Q5_0Codes {
  using Block = BlockQ5_0;
  static __m512i codes2(const Block* x, int64_t i) {
    const __mmask64 bits = load_u32(x[i].qh) | (load_u32(x[i + 1].qh) << 32);
    const __m512i nib = nibbles2(x[i].qs, x[i + 1].qs);
    return _mm512_mask_mov_epi8(_mm512_or_si512(nib, _mm512_set1_epi8(static_cast<char>(0xf0))), bits, nib);
  }
  static __m256i codes1(const Block* x, int64_t i) {
    const __mmask32 bits = static_cast<__mmask32>(load_u32(x[i].qh));
    const __m256i nib = nibbles(x[i].qs);
    return _mm256_mask_mov_epi8(_mm256_or_si256(nib, _mm256_set1_epi8(static_cast<char>(0xf0))), bits, nib);
  }
  static float scale(const Block& b) { return fp16(b.d); }
};

// MXFP4: the nibbles index the doubled E2M1 table (fp4.h) by a byte shuffle, the table repeated in
// every 128-bit lane; the scale is the halved E8M0 power of two.
struct Mxfp4Codes {
  using Block = BlockMxfp4;
  static __m512i table() {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kFp4Doubled)));
  }
  static __m512i codes2(const Block* x, int64_t i) {
    return _mm512_shuffle_epi8(table(), nibbles2(x[i].qs, x[i + 1].qs));
  }
  static __m256i codes1(const Block* x, int64_t i) {
    return _mm256_shuffle_epi8(_mm512_castsi512_si256(table()), nibbles(x[i].qs));
  }
  static float scale(const Block& b) { return e8m0_half(b.e); }
};

}  // namespace

void quantize_q8_0_avx512(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    const __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    const __m512 r0 = _mm512_min_ps(_mm512_max_ps(round_away(_mm512_mul_ps(v0, id)), lo), hi);
    const __m512 r1 = _mm512_min_ps(_mm512_max_ps(round_away(_mm512_mul_ps(v1, id)), lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs), _mm512_cvtsepi32_epi8(_mm512_cvttps_epi32(r0)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b[i].qs + 16), _mm512_cvtsepi32_epi8(_mm512_cvttps_epi32(r1)));
    b[i].d = to_fp16(d);
  }
}

float dot_q8_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_as_tile<LegacyTile<Q8_0Codes>::K>(n, w, a);
}

float dot_q4_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_as_tile<LegacyTile<Q4_0Codes>::K>(n, w, a);
}

float dot_q5_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_as_tile<LegacyTile<Q5_0Codes>::K>(n, w, a);
}

float dot_mxfp4_q8_0_avx512(int64_t n, const void* w, const void* a) {
  return dot_as_tile<LegacyTile<Mxfp4Codes>::K>(n, w, a);
}

void dot_tile_mxfp4_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                                int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<LegacyTile<Mxfp4Codes>::K>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

void dot_tile_q8_0_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<LegacyTile<Q8_0Codes>::K>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

void dot_tile_q4_0_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<LegacyTile<Q4_0Codes>::K>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

void dot_tile_q5_0_q8_0_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                               int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<LegacyTile<Q5_0Codes>::K>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

}  // namespace hearth::quant
