#version 450
// LayerNorm (ops::layernorm_ref): out [n_rows, n] = (x - mean) / sqrt(var + eps) * w + b, where var
// is the mean square of the centred values (two passes over the row, as the reference, so a large
// mean costs no precision); w unless has_w == 0, b unless has_b == 0. One workgroup a row, each
// sum a shared-memory tree over the workgroup (no subgroup size assumed). out may be x: every
// invocation writes only elements it has itself read, after the last read of the row.
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) readonly buffer Bs { float b[]; };
layout(binding = 3) buffer O { float o[]; };
layout(push_constant) uniform P { uint n_rows, n, has_w, has_b, per_z; float eps; } p;
shared float red[64];

// The workgroup's sum of each invocation's `v` (called in uniform control flow).
float workgroup_sum(float v) {
  const uint tid = gl_LocalInvocationID.x;
  red[tid] = v;
  barrier();
  for (uint k = 32; k > 0; k >>= 1) {
    if (tid < k) red[tid] += red[tid + k];
    barrier();
  }
  const float total = red[0];
  barrier();  // everyone has read red[0] before the next sum overwrites it
  return total;
}

void main() {
  const uint r = gl_WorkGroupID.x + gl_WorkGroupID.z * p.per_z, tid = gl_LocalInvocationID.x;
  if (r >= p.n_rows) return;  // the whole workgroup: the barriers below stay uniform
  const uint row = r * p.n;
  float s = 0.0;
  for (uint i = tid; i < p.n; i += 64) s += x[row + i];
  const float mean = workgroup_sum(s) / float(p.n);
  float sq = 0.0;
  for (uint i = tid; i < p.n; i += 64) {
    const float d = x[row + i] - mean;
    sq += d * d;
  }
  const float scale = inversesqrt(workgroup_sum(sq) / float(p.n) + p.eps);
  for (uint i = tid; i < p.n; i += 64) {
    float v = (x[row + i] - mean) * scale;
    if (p.has_w != 0) v *= w[i];
    if (p.has_b != 0) v += b[i];
    o[row + i] = v;
  }
}
