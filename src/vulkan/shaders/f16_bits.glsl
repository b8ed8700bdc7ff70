#ifndef F16_BITS_GLSL
#define F16_BITS_GLSL
// quant::f32_to_fp16 in integers: round to nearest, ties to even, subnormal halves included,
// overflow to infinity. (packHalf2x16's rounding is left to the driver, and a subnormal float
// may be flushed to zero: neither is allowed to change a byte of the cache.)
uint f32_to_f16_bits(float f) {
  uint x = floatBitsToUint(f);
  const uint sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? 0x7e00u : 0x7c00u);
  if (x >= 0x477ff000u) return sign | 0x7c00u;  // rounds up past 65504
  if (x < 0x38800000u) {
    // |f| < 2^-14: the half is the subnormal round(|f| / 2^-24) = mant * 2^(e - 126), rounded
    // to even on the bits shifted out.
    const uint e = x >> 23, shift = 126u - e;
    if (shift > 24u) return sign;  // below 2^-25 (float subnormals too): zero
    const uint mant = (x & 0x7fffffu) | 0x800000u;
    uint q = mant >> shift;
    const uint rest = mant & ((1u << shift) - 1u), tie = 1u << (shift - 1u);
    if (rest > tie || (rest == tie && (q & 1u) != 0u)) ++q;
    return sign | q;
  }
  // Normal: rebias the exponent (-112) and round the 13 dropped bits to even.
  x += 0xc8000fffu + ((x >> 13) & 1u);
  return sign | ((x >> 13) & 0xffffu);
}
#endif
