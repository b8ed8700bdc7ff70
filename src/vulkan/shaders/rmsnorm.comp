#version 450
// out [n_rows, n] = x / sqrt(mean(x^2) + eps) * w (w unless has_w == 0); one workgroup a row.
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) buffer O { float o[]; };
layout(push_constant) uniform P { uint n_rows, n, has_w, per_z; float eps; } p;
shared float red[64];
void main() {
  const uint r = gl_WorkGroupID.x + gl_WorkGroupID.z * p.per_z, tid = gl_LocalInvocationID.x;
  if (r >= p.n_rows) return;
  float s = 0.0;
  for (uint i = tid; i < p.n; i += 64) s += x[r * p.n + i] * x[r * p.n + i];
  red[tid] = s;
  barrier();
  for (uint k = 32; k > 0; k >>= 1) {
    if (tid < k) red[tid] += red[tid + k];
    barrier();
  }
  const float scale = inversesqrt(red[0] / float(p.n) + p.eps);
  for (uint i = tid; i < p.n; i += 64) {
    const float v = x[r * p.n + i] * scale;
    o[r * p.n + i] = p.has_w != 0 ? v * w[i] : v;
  }
}
