#pragma once
// The kernels table: for each tensor element type, how to dequantize, quantize, and take dot
// products, picked once per CPU tier (ref, avx2, avx512) at first use.
//
// A matrix-vector product y = W x (W [rows, n] of type T) is:
//   const TypeTraits& w = traits(T);
//   const TypeTraits& a = traits(w.vec_dot_type);
//   a.from_float(x, xq, n);                          // xq: row_bytes(w.vec_dot_type, n) bytes
//   y[r] = w.vec_dot(n, W + r * row_bytes(T, n), xq);
// Activation formats (vec_dot_type): F32 for F32/F16/BF16 weights (no activation rounding; a
// decode step is bound by reading the weights, not by the multiply), Q8_0 for Q4_0/Q5_0/Q8_0,
// Q8_1 for Q4_1/Q5_1 (its per-block sum pays the min term), Q8_K for the K-quants, Q8_0 for MXFP4.
//
// Nothing here allocates or throws: callers check is_supported() and n % block_elems == 0 when
// they load a tensor; the kernels trust those checks.

#include <cstdint>

#include "gguf/ggml_type.h"
#include "util/cpu_features.h"

namespace hearth::quant {

using gguf::GgmlType;

// The multi-row kernel takes up to this many weight rows and activation columns at once.
inline constexpr int kTileRows = 4;
inline constexpr int kTileCols = 4;
// The chunked float tile (TypeTraits::chunked_tile) takes up to this many of each.
inline constexpr int kChunkTileRows = 32;
inline constexpr int kChunkTileCols = 6;

// Chunk-major order of a row of n floats, what chunked_tile reads: for the whole blocks of 64
// values, the first 16 of every block, then the second 16 of every block, the third, the fourth;
// then the rest of the row (n % 64 values) as it was. A float dot keeps four accumulators, one per
// 16-wide chunk of a block; in this order each accumulator's inputs are contiguous, so a kernel
// can run them one at a time (a quarter of the registers) and still read memory in order.
void to_chunk_major(const float* src, float* dst, int64_t n);

struct TypeTraits {
  GgmlType type = GgmlType::F32;
  const char* name = "";
  int64_t block_elems = 0;
  int64_t block_bytes = 0;
  GgmlType vec_dot_type = GgmlType::F32;  // activation format vec_dot wants
  const char* isa = "ref";                // tier of vec_dot actually in this table

  // Dequantize n elements (n % block_elems == 0).
  void (*to_float)(const void* src, float* dst, int64_t n) = nullptr;
  // Quantize n elements (n % block_elems == 0). Deterministic for a given tier.
  void (*from_float)(const float* src, void* dst, int64_t n) = nullptr;
  // Dot of one weight row (this type) with one activation row (vec_dot_type), n elements.
  // Null for activation-only formats (Q8_1, Q8_K).
  float (*vec_dot)(int64_t n, const void* w_row, const void* act_row) = nullptr;
  // Tile of dots: out[c * out_stride + r] = vec_dot(n, w + r * w_stride, act + c * act_stride)
  // for r < nr <= kTileRows, c < nc <= kTileCols (strides of w and act in bytes, of out in
  // floats). Loads each activation block once for all rows: the tiled matmul of a prompt uses it.
  void (*vec_dot_tile)(int64_t n, const void* w, int64_t w_stride, int nr, const void* act,
                       int64_t act_stride, int nc, float* out, int64_t out_stride) = nullptr;
  // Float weights (F32, F16, BF16), on tiers that have it (null elsewhere): the same tile with
  // weight rows and activations both F32 in chunk-major order (to_chunk_major; the caller
  // converts the weights), strides in floats, r < nr <= kChunkTileRows, c < nc <= kChunkTileCols;
  // out is vec_dot of the original rows bit for bit. Holding one of the dot's four accumulators
  // at a time leaves registers for 4 rows x 6 columns of them: 24 products per 10 loads and no
  // conversion in the inner loop, where vec_dot_tile's 2 x 2 blocks do 4 per 4 loads.
  void (*chunked_tile)(int64_t n, const float* w, int64_t w_stride, int nr, const float* act,
                       int64_t act_stride, int nc, float* out, int64_t out_stride) = nullptr;
};

// True for types with kernels: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K..Q8_K,
// MXFP4.
bool is_supported(GgmlType t);

// Kernels of the tier in force (cpu_tier(), pinned by HEARTH_CPU or set_cpu_tier()).
// Aborts (a bug) for an unsupported type.
const TypeTraits& traits(GgmlType t);
// Kernels of a given tier (tests, benchmarks); a tier above cpu_max_tier() gives the highest one.
const TypeTraits& traits(GgmlType t, CpuTier tier);

}  // namespace hearth::quant
