#pragma once
// Tensor element types as numbered in GGUF files (ggml's type ids), with their block geometry.
// The GGUF reader needs the geometry to size tensors; quant/ builds its kernels table on these ids.

#include <cstdint>

namespace hearth::gguf {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
  MXFP4 = 39,  // OCP microscaling FP4: 32 E2M1 codes sharing one E8M0 exponent (gpt-oss)
};

struct TypeGeometry {
  const char* name;     // "q4_K", as llama.cpp spells it
  int64_t block_elems;  // elements per block
  int64_t block_bytes;  // bytes per block
};

// Null for ids Hearth does not know (the reader reports those as unsupported).
const TypeGeometry* type_geometry(uint32_t type_id);
inline const TypeGeometry* type_geometry(GgmlType t) {
  return type_geometry(static_cast<uint32_t>(t));
}

const char* type_name(GgmlType t);

// Bytes of a row of n elements; n must be a multiple of block_elems.
inline int64_t row_bytes(GgmlType t, int64_t n) {
  const TypeGeometry* g = type_geometry(t);
  return n / g->block_elems * g->block_bytes;
}

}  // namespace hearth::gguf
