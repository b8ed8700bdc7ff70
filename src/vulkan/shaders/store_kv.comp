#version 450
// cache row (seq[t] * n_ctx + pos[t]) = src row t ([n, width] F32), as F16 (KV_F16) or F32; in a
// ring cache (ring > 0, n_ctx = ring) the row is seq[t] * ring + pos[t] % ring.
#extension GL_EXT_shader_16bit_storage : require
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer S { float src[]; };
layout(binding = 1) readonly buffer R { int rows[]; };  // pos[n] then seq[n], from rows_off
#if KV_F16
layout(binding = 2) writeonly buffer D { uint16_t dst[]; };
#else
layout(binding = 2) writeonly buffer D { float dst[]; };
#endif
layout(push_constant) uniform P { uint width, n_ctx, n, rows_off, ring; } p;
void main() {
  const uint e = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
  if (e >= p.width || t >= p.n) return;
  const uint pos = uint(rows[p.rows_off + t]);
  const uint r = uint(rows[p.rows_off + p.n + t]) * p.n_ctx + (p.ring > 0 ? pos % p.ring : pos);
#if KV_F16
  dst[r * p.width + e] = uint16_t(packHalf2x16(vec2(src[t * p.width + e], 0.0)) & 0xffffu);
#else
  dst[r * p.width + e] = src[t * p.width + e];
#endif
}
