#pragma once
// IEEE half (fp16) and bfloat16 conversions in plain C++, so baseline-x86-64 code (the ref kernels,
// the GGUF writer) can use them; the SIMD tiers convert with F16C / AVX-512 instructions instead.
// Both narrowing conversions round to nearest, ties to even, like the hardware ones, so a value
// quantized by any tier gets the same bits.
// `static inline`: files built with AVX flags include this too, and a shared inline definition
// lets the linker keep whichever file's copy, possibly AVX code, for baseline callers.

#include <bit>
#include <cstdint>

namespace hearth::quant {

static inline float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, nan
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float.
    const float f = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -f : f;
  }
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline uint16_t f32_to_fp16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? 0x7e00u : 0x7c00u);  // nan stays nan
  // 65520 (0x477ff000) is halfway between the largest half, 65504, and 2^16; the tie goes to the
  // even neighbour, which is infinity.
  if (x >= 0x477ff000u) return sign | 0x7c00u;
  if (x < 0x38800000u) {
    // Below 2^-14: a subnormal half. Adding 0.5 makes the float unit in the last place 2^-24, the
    // half subnormal step, so the FPU rounds (to nearest even) for us.
    const float shifted = std::bit_cast<float>(x) + 0.5f;
    return sign | static_cast<uint16_t>(std::bit_cast<uint32_t>(shifted) - 0x3f000000u);
  }
  // Normal: rebias the exponent by -112 (mod 2^32) and round the 13 dropped bits to even.
  const uint32_t odd = (x >> 13) & 1u;
  x += 0xc8000fffu + odd;
  return sign | static_cast<uint16_t>(x >> 13);
}

static inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

static inline uint16_t f32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet nan
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// Row converters (scalar; the dispatch table has the fast ones as to_float / from_float).
void fp16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
void bf16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_bf16_row(const float* src, uint16_t* dst, int64_t n);

}  // namespace hearth::quant
