#version 450
// y [n_slots, rows] : slot s = x_row(s) W_{ids[s]}^T, W a stack of experts (each rows_per_expert
// rows of row_bytes), x_row(s) = x[s / k] or, with x_per_slot, x[s]. One invocation per (row,
// slot), 64 rows per workgroup; rows past 65,535 workgroups continue in z; slots from slot0 (the
// host dispatches at most 65,535 slots at a time).
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require
layout(local_size_x = 64) in;
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) readonly buffer Ids { int ids[]; };
layout(binding = 3) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n_cols, rows, n_slots, row_bytes, k, x_per_slot, groups_per_z, slot0; } p;
#include "dequant.glsl"  // binding 0: the weights
void main() {
  const uint r = gl_GlobalInvocationID.x + gl_WorkGroupID.z * p.groups_per_z * 64;
  const uint s = p.slot0 + gl_WorkGroupID.y;
  if (r >= p.rows || s >= p.n_slots) return;
  const uint row = (uint(ids[s]) * p.rows + r) * p.row_bytes;
  const uint xo = (p.x_per_slot != 0 ? s : s / p.k) * p.n_cols;
  float acc = 0.0;
  for (uint c = 0; c < (p.n_cols + 31) / 32; ++c) {
    float v[32];
    dequant32(row, c, p.n_cols, v);
    const uint n = min(32, p.n_cols - c * 32);
    for (uint i = 0; i < n; ++i) acc += v[i] * x[xo + c * 32 + i];
  }
  y[s * p.rows + r] = acc;
}
