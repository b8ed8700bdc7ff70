#version 450
// cache row (seq[t] * n_ctx + pos[t]) = src row t ([n, width] F32) in the cache's type KV_TYPE
// (0 F32, 1 F16, 8 Q8_0, 2 Q4_0: the gguf::GgmlType numbers); in a ring cache (ring > 0,
// n_ctx = ring) the row is seq[t] * ring + pos[t] % ring. F32/F16: one invocation per element.
// Q8_0/Q4_0 (width a multiple of 32): one invocation per 32-element block, quantized as the CPU
// backend's store does (quant::traits(type).from_float, src/quant/ref/legacy_ref.cc), bit for
// bit (kv_quant.glsl: divisions correctly rounded, f16 rounding in integers).
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_8bit_storage : require
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer S { float src[]; };
layout(binding = 1) readonly buffer R { int rows[]; };  // pos[n] then seq[n], from rows_off
#if KV_TYPE == 1
layout(binding = 2) writeonly buffer D { uint16_t dst[]; };
#elif KV_TYPE == 0
layout(binding = 2) writeonly buffer D { float dst[]; };
#else
layout(binding = 2) writeonly buffer D { uint8_t dst[]; };
#include "kv_quant.glsl"
#endif
layout(push_constant) uniform P { uint width, n_ctx, n, rows_off, ring; } p;
void main() {
  const uint e = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
#if KV_TYPE == 8 || KV_TYPE == 2
  if (e >= p.width / 32 || t >= p.n) return;
#else
  if (e >= p.width || t >= p.n) return;
#endif
  const uint pos = uint(rows[p.rows_off + t]);
  const uint r = uint(rows[p.rows_off + p.n + t]) * p.n_ctx + (p.ring > 0 ? pos % p.ring : pos);
#if KV_TYPE == 1
  dst[r * p.width + e] = uint16_t(packHalf2x16(vec2(src[t * p.width + e], 0.0)) & 0xffffu);
#elif KV_TYPE == 0
  dst[r * p.width + e] = src[t * p.width + e];
#else
  float x[32];
  for (uint i = 0; i < 32; ++i) x[i] = src[t * p.width + e * 32 + i];
  const uint o = r * kv_row_bytes(p.width) + e * KV_BLOCK_BYTES;
  uint code[32];
  const uint h = quantize_block(x, code);
  dst[o] = uint8_t(h & 0xffu);
  dst[o + 1] = uint8_t(h >> 8);
#if KV_TYPE == 8
  for (uint i = 0; i < 32; ++i) dst[o + 2 + i] = uint8_t(code[i]);
#else
  for (uint i = 0; i < 16; ++i) dst[o + 2 + i] = uint8_t(code[i] | (code[i + 16] << 4));
#endif
#endif
}
