// 32-element formats on AVX2: Q8_0 / Q8_1 activation quantizers and the dots against them.
// One block is one 256-bit register of 32 codes; per block the integer dot (exact) is turned to
// float and scaled by d_w * d_a into a float accumulator.

#include <immintrin.h>

#include "quant/blocks.h"
#include "quant/fp4.h"
#include "quant/x86/avx2/avx2_util.h"
#include "quant/x86/avx2/kernels_avx2.h"
#include "quant/x86/tile.h"

namespace hearth::quant {

using namespace avx2;

namespace {

// Quantizes 32 floats to q8 codes exactly as the ref does (d = amax / 127, q = roundf(x / d)
// clamped to +-127); returns d (before fp16 rounding) and stores the codes.
inline float quantize_block_q8(const float* x, int8_t* qs, int* sum_out) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float d = _mm_cvtss_f32(m) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    const __m256 r = _mm256_min_ps(_mm256_max_ps(round_away(_mm256_mul_ps(v[k], vid)), lo), hi);
    q[k] = _mm256_cvttps_epi32(r);
  }
  if (sum_out != nullptr) {
    *sum_out = hsum_i32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  }
  // packs interleave 128-bit lanes; the permute puts the 32 codes back in order.
  const __m256i p16a = _mm256_packs_epi32(q[0], q[1]), p16b = _mm256_packs_epi32(q[2], q[3]);
  const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
  const __m256i ordered = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), ordered);
  return d;
}

inline uint16_t to_fp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

void quantize_q8_0_avx2(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    b[i].d = to_fp16(quantize_block_q8(src, b[i].qs, nullptr));
  }
}

void quantize_q8_1_avx2(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i, src += kQK) {
    int sum = 0;
    const float d = quantize_block_q8(src, b[i].qs, &sum);
    b[i].d = to_fp16(d);
    b[i].s = to_fp16(d * static_cast<float>(sum));
  }
}

// Q8_0 tiles: NR rows x NC columns, one accumulator per pair; each row's |codes| computed once.
namespace {

template <int NR, int NC>
struct Q8_0Tile {
  static void run(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out, int64_t os) {
    const BlockQ8_0* x[NR];
    const BlockQ8_0* y[NC];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) x[r] = reinterpret_cast<const BlockQ8_0*>(w + r * ws);
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) y[c] = reinterpret_cast<const BlockQ8_0*>(a + c * as);
    __m256 acc[NR][NC];
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < n / kQK; ++i) {
      __m256i q[NR], aq[NR];
      float dx[NR];
#pragma GCC unroll 4
      for (int r = 0; r < NR; ++r) {
        q[r] = load256(x[r][i].qs);
        aq[r] = _mm256_sign_epi8(q[r], q[r]);
        dx[r] = fp16(x[r][i].d);
      }
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) {
        const __m256i yv = load256(y[c][i].qs);
        const float dy = fp16(y[c][i].d);
#pragma GCC unroll 4
        for (int r = 0; r < NR; ++r) {
          const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq[r], _mm256_sign_epi8(yv, q[r])), ones);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dx[r] * dy), _mm256_cvtepi32_ps(p), acc[r][c]);
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) out[c * os + r] = hsum(acc[r][c]);
    }
  }
};

}  // namespace

float dot_q8_0_q8_0_avx2(int64_t n, const void* w, const void* a) { return dot_as_tile<Q8_0Tile>(n, w, a); }

void dot_tile_q8_0_q8_0_avx2(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride) {
  run_tile<Q8_0Tile, 2>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

float dot_q4_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i q = _mm256_sub_epi8(unpack_nibbles_32(x[i].qs), eight);
    const __m256i p = dot_i8(q, load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum(acc);
}

// MXFP4: the nibbles index the doubled E2M1 table by one byte shuffle (the table repeated in both
// 128-bit lanes); the block's scale times the activation's is exact (a power of two times fp16).
float dot_mxfp4_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockMxfp4*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const __m128i table128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kFp4Doubled));
  const __m256i table = _mm256_set_m128i(table128, table128);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i q = _mm256_shuffle_epi8(table, unpack_nibbles_32(x[i].qs));
    const __m256i p = dot_i8(q, load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(e8m0_half(x[i].e) * fp16(y[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum(acc);
}

float dot_q5_0_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  const __m256i high_nibble = _mm256_set1_epi8(static_cast<char>(0xf0));
  for (int64_t i = 0; i < n / kQK; ++i) {
    // q - 16 as a signed byte: the nibble, with 0xf0 or'ed in where the fifth bit is clear.
    const __m256i bits = bits_to_bytes(load_u32(x[i].qh));
    const __m256i q = _mm256_or_si256(unpack_nibbles_32(x[i].qs), _mm256_andnot_si256(bits, high_nibble));
    const __m256i p = dot_i8(q, load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum(acc);
}

float dot_q4_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float min_sum = 0.0f;
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i p = dot_u8_i8(unpack_nibbles_32(x[i].qs), load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d)), _mm256_cvtepi32_ps(p), acc);
    min_sum += fp16(x[i].m) * fp16(y[i].s);
  }
  return hsum(acc) + min_sum;
}

float dot_q5_1_q8_1_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  __m256 acc = _mm256_setzero_ps();
  float min_sum = 0.0f;
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const __m256i bits = _mm256_and_si256(bits_to_bytes(load_u32(x[i].qh)), bit4);
    const __m256i q = _mm256_or_si256(unpack_nibbles_32(x[i].qs), bits);
    const __m256i p = dot_u8_i8(q, load256(y[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(fp16(x[i].d) * fp16(y[i].d)), _mm256_cvtepi32_ps(p), acc);
    min_sum += fp16(x[i].m) * fp16(y[i].s);
  }
  return hsum(acc) + min_sum;
}

}  // namespace hearth::quant
