#pragma once
// MXFP4's two tables, written once for the scalar reference and the SIMD tiers (functions are
// static inline: an ISA file's copy must never stand in for the baseline's, quant/README.md).
//
// The E2M1 values 0, 0.5, 1, 1.5, 2, 3, 4, 6 are kept doubled (0, 1, 2, 3, 4, 6, 8, 12) so a
// code is a small integer that byte dot products can use; the block scale is then halved to
// compensate: x = kFp4Doubled[q] * e8m0_half(e) = fp4(q) * 2^(e - 127). This is ggml's
// convention (its kvalues_mxfp4 and GGML_E8M0_TO_FP32_HALF), so the products and sums are the same.

#include <cstdint>
#include <cstring>

namespace hearth::quant {

// Code q (bit 3 the sign) -> 2 * its E2M1 value. |values| <= 12, so |code| * 127 fits the
// int16 pair sums of maddubs.
inline constexpr int8_t kFp4Doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128) = half the E8M0 exponent's value, exactly (e < 2 give the subnormals 2^-128 and
// 2^-127; e = 255, NaN in the OCP format, reads as 2^127 as in ggml).
static inline float e8m0_half(uint8_t e) {
  const uint32_t bits = e < 2 ? (uint32_t{0x00200000} << e) : (static_cast<uint32_t>(e - 1) << 23);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace hearth::quant
