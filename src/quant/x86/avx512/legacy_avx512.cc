// 32-element formats on AVX-512: two blocks per 512-bit register, integer dots by VNNI.

#include <immintrin.h>

#include <cstring>

#include "quant/blocks.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/avx512/kernels_avx512.h"

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

// Sum over blocks of d_w * d_a * isum; Codes(i, j) gives the weight codes of blocks i and i + 1 as
// signed bytes, Code1(i) those of one block (the tail).
template <typename WBlock, typename Codes2, typename Codes1>
float dot_blocks(int64_t n, const WBlock* x, const BlockQ8_0* y, Codes2 codes2, Codes1 codes1) {
  __m512 acc = _mm512_setzero_ps();
  const int64_t nb = n / kQK;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m512i p = dot_i8(codes2(i), load2x256(y[i].qs, y[i + 1].qs));
    const __m512 d = set_halves(fp16(x[i].d) * fp16(y[i].d), fp16(x[i + 1].d) * fp16(y[i + 1].d));
    acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  if (i < nb) {
    const __m512i p = dot_i8(_mm512_zextsi256_si512(codes1(i)), _mm512_zextsi256_si512(load256(y[i].qs)));
    sum += fp16(x[i].d) * fp16(y[i].d) *
           static_cast<float>(_mm512_mask_reduce_add_epi32(0x00ff, p));
  }
  return sum;
}

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
  const auto* x = static_cast<const BlockQ8_0*>(w);
  return dot_blocks(
      n, x, static_cast<const BlockQ8_0*>(a),
      [x](int64_t i) { return load2x256(x[i].qs, x[i + 1].qs); },
      [x](int64_t i) { return load256(x[i].qs); });
}

float dot_q4_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  return dot_blocks(
      n, x, static_cast<const BlockQ8_0*>(a),
      [x](int64_t i) { return _mm512_sub_epi8(nibbles2(x[i].qs, x[i + 1].qs), _mm512_set1_epi8(8)); },
      [x](int64_t i) { return _mm256_sub_epi8(nibbles(x[i].qs), _mm256_set1_epi8(8)); });
}

float dot_q5_0_q8_0_avx512(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  // q - 16 as a signed byte: the nibble where the fifth bit is set, the nibble | 0xf0 where not.
  auto codes2 = [x](int64_t i) {
    const __mmask64 bits = load_u32(x[i].qh) | (load_u32(x[i + 1].qh) << 32);
    const __m512i nib = nibbles2(x[i].qs, x[i + 1].qs);
    return _mm512_mask_mov_epi8(_mm512_or_si512(nib, _mm512_set1_epi8(static_cast<char>(0xf0))), bits, nib);
  };
  auto codes1 = [x](int64_t i) {
    const __mmask32 bits = static_cast<__mmask32>(load_u32(x[i].qh));
    const __m256i nib = nibbles(x[i].qs);
    return _mm256_mask_mov_epi8(_mm256_or_si256(nib, _mm256_set1_epi8(static_cast<char>(0xf0))), bits, nib);
  };
  return dot_blocks(n, x, static_cast<const BlockQ8_0*>(a), codes2, codes1);
}

}  // namespace hearth::quant
