// Q8_0 / Q4_0 KV cache blocks (KV_TYPE 8 / 2, ops/kv_quant.h): 32 elements as an f16 scale d and
// 32 int8 codes (x = d * q), or 16 bytes of nibbles (low: elements 0..15, high: 16..31; x =
// d * (q - 8)). Rows are whole blocks, so a row of `width` elements has width / 32 blocks.
#if KV_TYPE == 8
#define KV_BLOCK_BYTES 34u
#else
#define KV_BLOCK_BYTES 18u
#endif
uint kv_row_bytes(uint width) { return width / 32 * KV_BLOCK_BYTES; }

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

// roundf: nearest, ties away from zero (v - trunc(v) is exact), as quant::round_clamp.
float round_away(float v) {
  const float t = trunc(v);
  return abs(v - t) >= 0.5 ? t + sign(v) : t;
}

// One block as quantize_q8_0_ref / quantize_q4_0_ref (src/quant/ref/legacy_ref.cc) make it:
// codes (Q8_0: two's complement bytes; Q4_0: 0..15) and the f16 bits of d. The codes use
// id = 1 / d of the unrounded d. Vulkan lets a division be off by 2.5 ULP: on a device whose
// division is not correctly rounded (lavapipe's is), d or id may differ from the CPU's in the
// last bit, and then, rarely, a code by one (x / d within an ULP of a half) or d by one f16 ULP.
uint quantize_block(const float x[32], out uint code[32]) {
#if KV_TYPE == 8
  // Q8_0: d = max|x| / 127, q = round(x / d) in [-127, 127].
  float amax = 0.0;
  for (uint i = 0; i < 32; ++i) amax = max(amax, abs(x[i]));
  const float d = amax / 127.0;
  const float id = d != 0.0 ? 1.0 / d : 0.0;
  for (uint i = 0; i < 32; ++i) {
    precise float v = x[i] * id;
    code[i] = uint(int(clamp(round_away(v), -127.0, 127.0))) & 0xffu;
  }
#else
  // Q4_0: the element of largest magnitude (the first, with its sign) maps to code 0:
  // d = max / -8, q = floor(x / d + 8.5) in [0, 15]; d exactly, as a product.
  float amax = 0.0, mx = 0.0;
  for (uint i = 0; i < 32; ++i) {
    if (abs(x[i]) > amax) {
      amax = abs(x[i]);
      mx = x[i];
    }
  }
  const float d = mx * -0.125;
  const float id = d != 0.0 ? 1.0 / d : 0.0;
  for (uint i = 0; i < 32; ++i) {
    precise float v = x[i] * id;  // `precise`: (x * id + 8) + 0.5, each rounded, no fused step
    precise float w = v + 8.0;
    precise float u = w + 0.5;
    code[i] = uint(clamp(floor(u), 0.0, 15.0));
  }
#endif
  return f32_to_f16_bits(d);
}
