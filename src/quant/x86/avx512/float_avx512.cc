// Float-weight dots against F32 activations, 16 lanes, four accumulators.

#include <immintrin.h>

#include <cstring>

#include "quant/fp16.h"
#include "quant/x86/avx512/avx512_util.h"
#include "quant/x86/avx512/kernels_avx512.h"

namespace hearth::quant {

using namespace avx512;

namespace {

inline __m512 load_f32x16(const uint8_t* p) { return _mm512_loadu_ps(p); }
inline __m512 load_f16x16(const uint8_t* p) { return _mm512_cvtph_ps(load256(p)); }
inline __m512 load_bf16x16(const uint8_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load256(p)), 16));
}
inline float scalar_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
inline float scalar_f16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return fp16(v);
}
inline float scalar_bf16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return bf16_to_f32(v);
}

template <__m512 (*Load)(const uint8_t*), int kBytes, float (*Scalar)(const uint8_t*)>
float dot_floats(int64_t n, const void* w, const void* a) {
  const auto* pw = static_cast<const uint8_t*>(w);
  const auto* pa = static_cast<const float*>(a);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(Load(pw + i * kBytes), _mm512_loadu_ps(pa + i), acc0);
    acc1 = _mm512_fmadd_ps(Load(pw + (i + 16) * kBytes), _mm512_loadu_ps(pa + i + 16), acc1);
    acc2 = _mm512_fmadd_ps(Load(pw + (i + 32) * kBytes), _mm512_loadu_ps(pa + i + 32), acc2);
    acc3 = _mm512_fmadd_ps(Load(pw + (i + 48) * kBytes), _mm512_loadu_ps(pa + i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(Load(pw + i * kBytes), _mm512_loadu_ps(pa + i), acc0);
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
  for (; i < n; ++i) sum += Scalar(pw + i * kBytes) * pa[i];
  return sum;
}

// R weight rows x C activation rows with the arithmetic of dot_floats for every pair (the same
// four accumulators, chunks, tail and reduction, so the same bits): each weight vector is loaded
// and converted once for C columns and each activation vector once for R rows, which halves the
// loads per FMA that bound the row dot.
template <__m512 (*Load)(const uint8_t*), int kBytes, float (*Scalar)(const uint8_t*), int R, int C>
void dot_block(int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out,
               int64_t os) {
  __m512 acc[R][C][4];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      for (int j = 0; j < 4; ++j) acc[r][c][j] = _mm512_setzero_ps();
    }
  }
  auto step = [&](int64_t i, int j) {
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = Load(w + r * ws + i * kBytes);
    for (int c = 0; c < C; ++c) {
      const __m512 av = _mm512_loadu_ps(reinterpret_cast<const float*>(a + c * as) + i);
      for (int r = 0; r < R; ++r) acc[r][c][j] = _mm512_fmadd_ps(wv[r], av, acc[r][c][j]);
    }
  };
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    step(i, 0);
    step(i + 16, 1);
    step(i + 32, 2);
    step(i + 48, 3);
  }
  for (; i + 16 <= n; i += 16) step(i, 0);
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      __m512* q = acc[r][c];
      float sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(q[0], q[1]), _mm512_add_ps(q[2], q[3])));
      const float* af = reinterpret_cast<const float*>(a + c * as);
      for (int64_t k = i; k < n; ++k) sum += Scalar(w + r * ws + k * kBytes) * af[k];
      out[c * os + r] = sum;
    }
  }
}

template <__m512 (*Load)(const uint8_t*), int kBytes, float (*Scalar)(const uint8_t*)>
void dot_tile_floats(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                     int64_t act_stride, int nc, float* out, int64_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  for (int c = 0; c < nc; c += 2) {
    for (int r = 0; r < nr; r += 2) {
      const uint8_t* wr = wb + r * w_stride;
      const uint8_t* ac = ab + c * act_stride;
      float* o = out + c * out_stride + r;
      const bool two_r = r + 1 < nr, two_c = c + 1 < nc;
      if (two_r && two_c) {
        dot_block<Load, kBytes, Scalar, 2, 2>(n, wr, w_stride, ac, act_stride, o, out_stride);
      } else if (two_r) {
        dot_block<Load, kBytes, Scalar, 2, 1>(n, wr, w_stride, ac, act_stride, o, out_stride);
      } else if (two_c) {
        dot_block<Load, kBytes, Scalar, 1, 2>(n, wr, w_stride, ac, act_stride, o, out_stride);
      } else {
        dot_block<Load, kBytes, Scalar, 1, 1>(n, wr, w_stride, ac, act_stride, o, out_stride);
      }
    }
  }
}

}  // namespace

void dot_tile_f32_f32_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride) {
  dot_tile_floats<load_f32x16, 4, scalar_f32>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

void dot_tile_f16_f32_avx512(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride) {
  dot_tile_floats<load_f16x16, 2, scalar_f16>(n, w, w_stride, nr, act, act_stride, nc, out, out_stride);
}

float dot_f32_f32_avx512(int64_t n, const void* w, const void* a) {
  return dot_floats<load_f32x16, 4, scalar_f32>(n, w, a);
}

float dot_f16_f32_avx512(int64_t n, const void* w, const void* a) {
  return dot_floats<load_f16x16, 2, scalar_f16>(n, w, a);
}

float dot_bf16_f32_avx512(int64_t n, const void* w, const void* a) {
  return dot_floats<load_bf16x16, 2, scalar_bf16>(n, w, a);
}

}  // namespace hearth::quant
