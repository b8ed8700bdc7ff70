#version 450
// out [n, n_cols] = rows ids[0..n) of a table of any weight type (embedding lookup).
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require
layout(local_size_x = 64) in;
layout(binding = 1) readonly buffer Ids { int ids[]; };
layout(binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n_cols, row_bytes, n, ids_off; } p;
#include "dequant.glsl"  // binding 0: the weights
void main() {
  const uint c = gl_GlobalInvocationID.x, i = gl_WorkGroupID.y;
  if (c * 32 >= p.n_cols || i >= p.n) return;
  float v[32];
  dequant32(uint(ids[p.ids_off + i]) * p.row_bytes, c, p.n_cols, v);
  const uint n = min(32, p.n_cols - c * 32);
  for (uint k = 0; k < n; ++k) o[i * p.n_cols + c * 32 + k] = v[k];
}
