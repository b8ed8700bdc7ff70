#pragma once
// Row panels: weights repacked once at load so that one SIMD lane holds one weight row.
//
// A panel is kPanelRows consecutive rows of a matrix. Within a panel, for each group of 4
// consecutive elements, the 4 bytes of code of every row sit side by side (row r at bytes 4r..4r+3),
// so one 512-bit load feeds 16 rows to vpdpbusd against one broadcast group of activations, and the
// 16 int32 lanes accumulate 16 dot products at once: no horizontal sums, and the per-block scales of
// 16 rows are one vector. This is the layout fast CPU engines ("interleaved rows") use; ours keeps
// exactly the size of the source rows (a panel is kPanelRows * row_bytes bytes), keeps every code and
// scale bit, and so gives the same integer sums as the row kernels; only float rounding order differs.
//
// Formats with panels: Q8_0, Q4_0, Q5_0, Q4_K, Q6_K (see the Panel* structs). Activation formats:
// Q8_K for the K-quants, ActQ8_0 (Q8_0 with a float scale and the block's code sum) for the others.

#include <cstdint>

#include "gguf/ggml_type.h"
#include "quant/blocks.h"
#include "util/cpu_features.h"

namespace hearth::quant {

using gguf::GgmlType;

inline constexpr int kPanelRows = 16;

// One 32-element block of 16 Q8_0 rows. qs[g][r][i] = code 4g + i of row r, plus 128 (stored
// unsigned for vpdpbusd; the kernel subtracts 128 * sum(activations)).
struct HEARTH_PACKED PanelQ8_0 {
  uint16_t d[kPanelRows];
  uint8_t qs[8][kPanelRows][4];
};
static_assert(sizeof(PanelQ8_0) == kPanelRows * sizeof(BlockQ8_0));

// One 32-element block of 16 Q4_0 rows; codes u = q + 8 in [0, 15]. qs[v][r][i]: low nibble = code
// 4v + i, high nibble = code 16 + 4v + i of row r (so qs[v][r] is bytes 4v..4v+3 of the row's block).
struct HEARTH_PACKED PanelQ4_0 {
  uint16_t d[kPanelRows];
  uint8_t qs[4][kPanelRows][4];
};
static_assert(sizeof(PanelQ4_0) == kPanelRows * sizeof(BlockQ4_0));

// One 32-element block of 16 Q5_0 rows; codes u = q + 16 in [0, 31]: low 4 bits as PanelQ4_0, and
// qh[r][i] bit g = bit 4 of code 4g + i of row r (a shift and a mask put it in place for group g).
// The 1408-wide expert down rows of DeepSeek-V2-Lite's Q4_K_M files are Q5_0.
struct HEARTH_PACKED PanelQ5_0 {
  uint16_t d[kPanelRows];
  uint8_t qh[kPanelRows][4];
  uint8_t qs[4][kPanelRows][4];
};
static_assert(sizeof(PanelQ5_0) == kPanelRows * sizeof(BlockQ5_0));

// Q8_0 activations as the kernels want them: quantize_q8_0's codes, its fp16 scale widened to
// float (exactly), and -128 times the block's code sum (the correction for the weights' +128), so a
// kernel broadcasts both from memory instead of converting them per block and column.
struct HEARTH_PACKED ActQ8_0 {
  float d;
  int32_t neg128_sum;
  int8_t qs[kQK];
};
static_assert(sizeof(ActQ8_0) == 40);

// One super-block of 16 Q4_K rows. scales[k][r] = byte k of row r's 12 packed scale bytes.
// qs[j][v][r][i]: sub-block j (32 elements); low nibble = code 32j + 4v + i, high nibble = code
// 32j + 16 + 4v + i of row r.
struct HEARTH_PACKED PanelQ4_K {
  uint16_t d[kPanelRows];
  uint16_t dmin[kPanelRows];
  uint8_t scales[12][kPanelRows];
  uint8_t qs[8][4][kPanelRows][4];
};
static_assert(sizeof(PanelQ4_K) == kPanelRows * sizeof(BlockQ4_K));

// One super-block of 16 Q6_K rows; codes u = q + 32 in [0, 63]. scales[j][r] = scale of sub-block j
// (16 elements). ql[j][v][r][i]: low 4 bits of code 16j + 4v + i (low nibble) and of code
// 16j + 4(v + 2) + i (high nibble); qh[j][r][i]: top 2 bits of code 16j + 4g + i at bits 2g.
struct HEARTH_PACKED PanelQ6_K {
  uint16_t d[kPanelRows];
  int8_t scales[16][kPanelRows];
  uint8_t ql[16][2][kPanelRows][4];
  uint8_t qh[16][kPanelRows][4];
};
static_assert(sizeof(PanelQ6_K) == kPanelRows * sizeof(BlockQ6_K));

struct PackedKernels {
  GgmlType type = GgmlType::F32;
  const char* isa = "ref";
  // Activation row format of gemm: bytes for n elements, and the quantizer.
  int64_t (*act_row_bytes)(int64_t n) = nullptr;
  void (*quantize_act)(const float* src, void* dst, int64_t n) = nullptr;
  // kPanelRows rows (row_bytes apart) -> one panel of kPanelRows * row_bytes bytes, and back.
  void (*pack)(const uint8_t* rows, int64_t row_bytes, int64_t n, uint8_t* panel) = nullptr;
  void (*unpack)(const uint8_t* panel, int64_t n, uint8_t* rows, int64_t row_bytes) = nullptr;
  // out[c * out_stride + kPanelRows * p + r] = row r of panel p . activation row c, for p < n_panels
  // (consecutive panels of kPanelRows * row_bytes(n) bytes), r < kPanelRows, c < nc. Several panels
  // per call let a kernel reuse each activation load for more rows.
  void (*gemm)(int64_t n, const uint8_t* panels, int n_panels, const uint8_t* act, int64_t act_stride,
               int nc, float* out, int64_t out_stride) = nullptr;
};

// Panel kernels of the tier in force for type t, or null (no panels for this type or CPU).
const PackedKernels* packed_kernels(GgmlType t);
// A given tier's (tests, benchmarks): null where that tier has none. The ref tier has the
// specification for every panel format (unpack + the ref row dot).
const PackedKernels* packed_kernels(GgmlType t, CpuTier tier);
// The avx512 tier as a CPU without GFNI runs it (tests: both forms of the kernels that have a GFNI
// form); null where this CPU has no avx512 tier or the tier no panels for t.
const PackedKernels* packed_kernels_without_gfni(GgmlType t);

}  // namespace hearth::quant
