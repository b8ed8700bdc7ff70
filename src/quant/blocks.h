#pragma once
// Quantized block layouts, byte for byte as GGUF files store them (ggml's formats). Every struct is
// packed (alignment 1) so a block may sit at any address: tensors inside a mapped file, or a test's
// deliberately misaligned copy. Half-precision fields are raw fp16 bits (see fp16.h).
//
// Two block sizes: the "legacy" formats hold 32 elements per block with one scale (and maybe a
// min); the K-quants hold 256 per super-block, split into sub-blocks of 16 or 32 whose scales are
// themselves quantized against a super-block scale.

#include <cstdint>

namespace hearth::quant {

inline constexpr int kQK = 32;    // elements per legacy block
inline constexpr int kQK_K = 256;  // elements per K-quant super-block

#define HEARTH_PACKED __attribute__((packed))

// x = d * (q - 8); element j < 16 in the low nibble of qs[j], element j + 16 in its high nibble.
struct HEARTH_PACKED BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x = d * q + m, nibbles as Q4_0.
struct HEARTH_PACKED BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// x = d * (q - 16), q 5 bits: low 4 as Q4_0's nibbles, bit 4 of element j is bit j of qh
// (little-endian 32-bit word).
struct HEARTH_PACKED BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x = d * q + m, bits as Q5_0.
struct HEARTH_PACKED BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// x = d * q.
struct HEARTH_PACKED BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// MXFP4 (OCP microscaling, gpt-oss's expert weights): x = 2^(e - 127) * fp4(q), q a 4-bit E2M1
// code (sign, 2 exponent bits, 1 mantissa bit: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives),
// nibbles as Q4_0. ggml stores no other scale; fp4.h holds the code table (doubled, so codes are
// integers) and the matching halved scale.
struct HEARTH_PACKED BlockMxfp4 {
  uint8_t e;  // E8M0: a bare power-of-two exponent, bias 127
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockMxfp4) == 17);

// Activation format for Q4_1 / Q5_1: x = d * q, and s = d * sum(q) so the weight's min term
// costs one multiply per block.
struct HEARTH_PACKED BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_1) == 36);

// 16 sub-blocks of 16: x = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4), q 2 bits.
// Element order: for each 128-half h, for shift s = 0,2,4,6, two sub-blocks of 16 read bits s..s+1
// of qs[32h + 0..15] and qs[32h + 16..31].
struct HEARTH_PACKED BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 16 sub-blocks of 16: x = d * (sc[j] - 32) * (q - 4 * !high_bit), q 2 bits as Q2_K, the third bit
// in hmask (bit b of hmask[l] for the b-th group of 32). The 6-bit sc[j] are packed in 12 bytes:
// low 4 bits in scales[j % 8] (low nibble for j < 8, high for j >= 8), high 2 bits in
// scales[8 + j % 4] at bit 2 * (j / 4).
struct HEARTH_PACKED BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 8 sub-blocks of 32: x = d * sc[j] * q - dmin * m[j], q 4 bits, sc and m 6 bits packed in 12
// bytes (see k_scales.h). Each 64 elements use 32 bytes of qs: low nibbles first, then high.
struct HEARTH_PACKED BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// As Q4_K with a fifth bit: bit 2i of qh[l] for the low-nibble half of the i-th 64, bit 2i+1
// for the high-nibble half.
struct HEARTH_PACKED BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16: x = d * scales[j] * (q - 32), q 6 bits. Per 128-half: ql[64] holds the
// low nibbles (elements 0-31 and 32-63 in low nibbles, 64-95 and 96-127 in high nibbles of the
// same bytes), qh[32] the top 2 bits (bits 0-1, 2-3, 4-5, 6-7 for those four groups of 32).
struct HEARTH_PACKED BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation format for the K-quants: x = d * q (float d), bsums[j] = sum of qs[16j .. 16j+15]
// so the weights' min terms need no pass over the activations.
struct HEARTH_PACKED BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace hearth::quant
