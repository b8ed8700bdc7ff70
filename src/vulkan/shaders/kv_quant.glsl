// Q8_0 / Q4_0 KV cache blocks (KV_TYPE 8 / 2, ops/kv_quant.h): 32 elements as an f16 scale d and
// 32 int8 codes (x = d * q), or 16 bytes of nibbles (low: elements 0..15, high: 16..31; x =
// d * (q - 8)). Rows are whole blocks, so a row of `width` elements has width / 32 blocks.
#if KV_TYPE == 8
#define KV_BLOCK_BYTES 34u
#else
#define KV_BLOCK_BYTES 18u
#endif
uint kv_row_bytes(uint width) { return width / 32 * KV_BLOCK_BYTES; }

#include "f16_bits.glsl"

// a / b correctly rounded (to nearest, ties to even) for positive normal a, b and quotient, as the
// CPU divides: Vulkan lets a division be off by 2.5 ULP (NVIDIA's is), which would move a block's
// scale or a code now and then. The driver's quotient is moved a float at a time while the exact
// quotient lies outside its rounding interval, compared in integers: a = ma 2^ea, b = mb 2^eb and
// the quotient q = mq 2^eq (24-bit mantissas); the interval's ends in units of 2^(eq - 2) are
// 4 mq - 2 (4 mq - 1 at the bottom of a binade, where the float below is closer) and 4 mq + 2,
// and a / b lies below an end e when ma 2^s < e mb, s = ea - eb - eq + 2 (about 26: 64-bit
// products by umulExtended). Anything else (zero, subnormal, infinite) keeps the driver's quotient.
bool normal_float(uint x) { return ((x >> 23) & 0xffu) - 1u < 0xfeu; }
// -1, 0 or 1 as ma 2^s is below, equal to or above e mb.
int compare_scaled(uint ma, int s, uint e, uint mb) {
  uint ph, pl;
  umulExtended(e, mb, ph, pl);
  const uint mh = s >= 32 ? ma << (s - 32) : (s == 0 ? 0u : ma >> (32 - s));
  const uint ml = s >= 32 ? 0u : ma << s;
  if (mh != ph) return mh < ph ? -1 : 1;
  return ml == pl ? 0 : (ml < pl ? -1 : 1);
}
float div_rn(float a, float b) {
  float q = a / b;
  const uint xa = floatBitsToUint(a), xb = floatBitsToUint(b);
  if (!normal_float(xa) || !normal_float(xb) || (xa >> 31) != 0u || (xb >> 31) != 0u) return q;
  const uint ma = (xa & 0x7fffffu) | 0x800000u, mb = (xb & 0x7fffffu) | 0x800000u;
  for (int step = 0; step < 4; ++step) {
    const uint xq = floatBitsToUint(q);
    if (!normal_float(xq) || (xq >> 31) != 0u) return q;
    const uint mq = (xq & 0x7fffffu) | 0x800000u;
    const int s = int((xa >> 23) & 0xffu) - int((xb >> 23) & 0xffu) - int((xq >> 23) & 0xffu) + 152;
    if (s < 0 || s > 40) return q;
    const int below = compare_scaled(ma, s, 4u * mq - (mq == 0x800000u ? 1u : 2u), mb);
    const int above = compare_scaled(ma, s, 4u * mq + 2u, mb);
    const bool odd = (mq & 1u) != 0u;
    if (below < 0 || (below == 0 && odd)) {
      q = uintBitsToFloat(xq - 1u);
    } else if (above > 0 || (above == 0 && odd)) {
      q = uintBitsToFloat(xq + 1u);
    } else {
      break;
    }
  }
  return q;
}

// roundf: nearest, ties away from zero (v - trunc(v) is exact), as quant::round_clamp.
float round_away(float v) {
  const float t = trunc(v);
  return abs(v - t) >= 0.5 ? t + sign(v) : t;
}

// One block as quantize_q8_0_ref / quantize_q4_0_ref (src/quant/ref/legacy_ref.cc) make it:
// codes (Q8_0: two's complement bytes; Q4_0: 0..15) and the f16 bits of d. The codes use
// id = 1 / d of the unrounded d; both divisions correctly rounded (div_rn), the products and
// sums `precise` (no fused multiply-add the CPU's baseline code does not do).
uint quantize_block(const float x[32], out uint code[32]) {
#if KV_TYPE == 8
  // Q8_0: d = max|x| / 127, q = round(x / d) in [-127, 127].
  float amax = 0.0;
  for (uint i = 0; i < 32; ++i) amax = max(amax, abs(x[i]));
  const float d = div_rn(amax, 127.0);
  const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
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
  const float id = d != 0.0 ? sign(d) * div_rn(1.0, abs(d)) : 0.0;
  for (uint i = 0; i < 32; ++i) {
    precise float v = x[i] * id;  // `precise`: (x * id + 8) + 0.5, each rounded, no fused step
    precise float w = v + 8.0;
    precise float u = w + 0.5;
    code[i] = uint(clamp(floor(u), 0.0, 15.0));
  }
#endif
  return f32_to_f16_bits(d);
}
