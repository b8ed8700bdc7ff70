// Float-weight dots against F32 activations, 16 lanes, four accumulators.

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "quant/fp16.h"
#include "quant/type_traits.h"
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

// Pass j (0..3) of R weight rows x C activation rows, both F32 in chunk-major order, with the
// arithmetic of dot_floats for every pair. dot_floats' accumulator j sums, in order, the products
// of chunk j of every 64-block (accumulator 0 then those of the 16-wide chunks after the last
// block): here quarter j of a row is one contiguous run, and one register per pair runs those same
// FMAs in the same order. The passes' results meet as dot_floats sums its four accumulators:
// pass 0 stores to s01, pass 1 adds to it, pass 2 stores to s2, pass 3 writes
// reduce(s01 + (s2 + acc)) plus the scalar tail (in order after the quarters): the same bits.
template <int R, int C>
void chunked_pass(int j, int64_t n, const float* w, int64_t ws, const float* a, int64_t as, __m512* s01,
                  __m512* s2, float* out, int64_t os) {
  const int64_t blocks = n / 64, whole = n / 16 * 16;
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  }
  auto run = [&](const float* wq, const float* aq, int64_t chunks) __attribute__((always_inline)) {
    for (int64_t k = 0; k < chunks; ++k) {
      __m512 wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_ps(wq + r * ws + k * 16);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m512 av = _mm512_loadu_ps(aq + c * as + k * 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(wv[r], av, acc[r][c]);
      }
    }
  };
  run(w + j * blocks * 16, a + j * blocks * 16, blocks);
  if (j == 0) run(w + blocks * 64, a + blocks * 64, (whole - blocks * 64) / 16);
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      const int i = r * C + c;
      if (j == 0) {
        s01[i] = acc[r][c];
      } else if (j == 1) {
        s01[i] = _mm512_add_ps(s01[i], acc[r][c]);
      } else if (j == 2) {
        s2[i] = acc[r][c];
      } else {
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(s01[i], _mm512_add_ps(s2[i], acc[r][c])));
        for (int64_t k = whole; k < n; ++k) sum += w[r * ws + k] * a[c * as + k];
        out[c * os + r] = sum;
      }
    }
  }
}

// All nr rows x C columns, pass by pass: each pass reads one quarter of the rows, so the tile's
// activation quarter stays in L1 while the weight rows stream past it (the partial sums of every
// row wait in s01 and s2, a few stores per pass).
template <int C>
void chunked_cols(int64_t n, const float* w, int64_t ws, int nr, const float* a, int64_t as, float* out,
                  int64_t os) {
  __m512 s01[kChunkTileRows * C], s2[kChunkTileRows * C];
  for (int j = 0; j < 4; ++j) {
    for (int r = 0; r < nr; r += 4) {
      const float* wr = w + r * ws;
      __m512 *p01 = s01 + r * C, *p2 = s2 + r * C;
      switch (std::min(4, nr - r)) {
        case 1: chunked_pass<1, C>(j, n, wr, ws, a, as, p01, p2, out + r, os); break;
        case 2: chunked_pass<2, C>(j, n, wr, ws, a, as, p01, p2, out + r, os); break;
        case 3: chunked_pass<3, C>(j, n, wr, ws, a, as, p01, p2, out + r, os); break;
        default: chunked_pass<4, C>(j, n, wr, ws, a, as, p01, p2, out + r, os); break;
      }
    }
  }
}
static_assert(kChunkTileCols == 6, "chunked_tile_f32_avx512 dispatches on it");

}  // namespace

void chunked_tile_f32_avx512(int64_t n, const float* w, int64_t w_stride, int nr, const float* act,
                             int64_t act_stride, int nc, float* out, int64_t out_stride) {
  switch (nc) {
    case 1: return chunked_cols<1>(n, w, w_stride, nr, act, act_stride, out, out_stride);
    case 2: return chunked_cols<2>(n, w, w_stride, nr, act, act_stride, out, out_stride);
    case 3: return chunked_cols<3>(n, w, w_stride, nr, act, act_stride, out, out_stride);
    case 4: return chunked_cols<4>(n, w, w_stride, nr, act, act_stride, out, out_stride);
    case 5: return chunked_cols<5>(n, w, w_stride, nr, act, act_stride, out, out_stride);
    default: return chunked_cols<6>(n, w, w_stride, nr, act, act_stride, out, out_stride);
  }
}

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
