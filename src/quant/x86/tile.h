#pragma once
// Tile kernels for the SIMD tiers. A kernel is a class template K<NR, NC> with
//   static void run(int64_t n, const uint8_t* w, int64_t w_stride, const uint8_t* act,
//                   int64_t act_stride, float* out, int64_t out_stride);
// computing NR weight rows x NC activation columns with one accumulator set per (row, column)
// pair, in the same order of float operations whatever NR and NC are. vec_dot is K<1, 1>, so a
// tile's results are bit-identical to the single dots: a token's logits do not depend on how the
// prompt was batched. run_tile covers nr <= 4 rows and nc <= 4 columns.
// Every K must have internal linkage (an unnamed namespace), and these templates are static: the
// same name in an avx2 and an avx512 file would otherwise be one symbol, and the linker would
// keep either ISA's code for both.

#include <cstdint>

namespace hearth::quant {

template <template <int, int> class K>
static float dot_as_tile(int64_t n, const void* w, const void* a) {
  float out;
  K<1, 1>::run(n, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), 0, &out, 0);
  return out;
}

// Rows in groups of at most MaxRows.
template <template <int, int> class K, int NC, int MaxRows>
static void run_rows(int nr, int64_t n, const uint8_t* w, int64_t ws, const uint8_t* a, int64_t as, float* out,
              int64_t os) {
  for (int r = 0; r < nr; r += MaxRows) {
    const int rows = nr - r < MaxRows ? nr - r : MaxRows;
    const uint8_t* wr = w + r * ws;
    float* o = out + r;
    switch (rows) {
      case 1: K<1, NC>::run(n, wr, ws, a, as, o, os); break;
      case 2: if constexpr (MaxRows >= 2) K<2, NC>::run(n, wr, ws, a, as, o, os); break;
      case 3: if constexpr (MaxRows >= 3) K<3, NC>::run(n, wr, ws, a, as, o, os); break;
      default: if constexpr (MaxRows >= 4) K<4, NC>::run(n, wr, ws, a, as, o, os); break;
    }
  }
}

// Columns in pairs (a pair of columns times four rows is what fits 32 zmm / 16 ymm registers).
template <template <int, int> class K, int MaxRows = 4>
static void run_tile(int64_t n, const void* w, int64_t w_stride, int nr, const void* act, int64_t act_stride,
              int nc, float* out, int64_t out_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(act);
  for (int c = 0; c < nc; c += 2) {
    const uint8_t* a = ab + c * act_stride;
    float* o = out + c * out_stride;
    if (nc - c >= 2) {
      run_rows<K, 2, MaxRows>(nr, n, wb, w_stride, a, act_stride, o, out_stride);
    } else {
      run_rows<K, 1, MaxRows>(nr, n, wb, w_stride, a, act_stride, o, out_stride);
    }
  }
}

}  // namespace hearth::quant
