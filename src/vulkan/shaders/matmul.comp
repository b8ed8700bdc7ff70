#version 450
// y [n_tok, n_rows] = x [n_tok, n_cols] W^T for a weight type (WTYPE, dequant.glsl). One
// workgroup per (row, TOK tokens): its 64 invocations take chunks of 32 columns in turn, each
// chunk dequantized once for TOK tokens, then a shared-memory reduction (no subgroup size is
// assumed: lavapipe's is 8, NVIDIA's 32, AMD's 64). Rows beyond the 65,535 workgroups of one
// dispatch dimension continue in gl_WorkGroupID.z. `w_off` selects a matrix of a stack (experts).
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 64) in;
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n_cols, n_rows, n_tok, row_bytes, w_off, rows_per_z; } p;
#define TOK 8
#include "dequant.glsl"  // binding 0: the weights
#if ROW_PER_INVOCATION
void main() {
  const uint r = gl_GlobalInvocationID.x + gl_WorkGroupID.z * p.rows_per_z * 64;
  const uint t0 = gl_WorkGroupID.y * TOK;
  if (r >= p.n_rows) return;
  float acc[TOK];
  [[unroll]] for (uint t = 0; t < TOK; ++t) acc[t] = 0.0;
  const uint n_chunks = (p.n_cols + 31) / 32;
  const uint row = p.w_off + r * p.row_bytes;
  for (uint c = 0; c < n_chunks; ++c) {
    float v[32];
    dequant32(row, c, p.n_cols, v);
    const uint n = min(32, p.n_cols - c * 32);
    for (uint t = 0; t < TOK; ++t) {
      if (t0 + t >= p.n_tok) break;
      const uint xo = (t0 + t) * p.n_cols + c * 32;
      float s = 0.0;
      for (uint i = 0; i < n; ++i) s += v[i] * x[xo + i];
      acc[t] += s;
    }
  }
  for (uint t = 0; t < TOK && t0 + t < p.n_tok; ++t) y[(t0 + t) * p.n_rows + r] = acc[t];
}
#else
shared float red[TOK * 64];
void main() {
  const uint r = gl_WorkGroupID.x + gl_WorkGroupID.z * p.rows_per_z;
  const uint t0 = gl_WorkGroupID.y * TOK;
  const uint tid = gl_LocalInvocationID.x;
  float acc[TOK];
  [[unroll]] for (uint t = 0; t < TOK; ++t) acc[t] = 0.0;
  if (r < p.n_rows) {
    const uint n_chunks = (p.n_cols + 31) / 32;
    const uint row = p.w_off + r * p.row_bytes;
    for (uint c = tid; c < n_chunks; c += 64) {
      float v[32];
      dequant32(row, c, p.n_cols, v);
      const uint n = min(32, p.n_cols - c * 32);
      for (uint t = 0; t < TOK; ++t) {
        if (t0 + t >= p.n_tok) break;
        const uint xo = (t0 + t) * p.n_cols + c * 32;
        float s = 0.0;
        for (uint i = 0; i < n; ++i) s += v[i] * x[xo + i];
        acc[t] += s;
      }
    }
  }
  [[unroll]] for (uint t = 0; t < TOK; ++t) red[t * 64 + tid] = acc[t];
  barrier();
  for (uint s = 32; s > 0; s >>= 1) {
    if (tid < s) {
      [[unroll]] for (uint t = 0; t < TOK; ++t) red[t * 64 + tid] += red[t * 64 + tid + s];
    }
    barrier();
  }
  if (r < p.n_rows && tid < TOK && t0 + tid < p.n_tok) y[(t0 + tid) * p.n_rows + r] = red[tid * 64];
}
#endif
