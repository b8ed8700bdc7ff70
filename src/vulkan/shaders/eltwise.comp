#version 450
// Element-wise ops over n values (OP): 0 y += x; 1 x[r, i] += b[i] (rows of n_cols);
// 2 x *= f; 3 out = silu(a) * b; 4 out = gelu(a) * b; 5 out = gelu(a); 6 x = f tanh(x / f);
// 7 out = gpt-oss's clamped SwiGLU of gate a and up b (alpha f, limit f2: ops/activation.h);
// 8 y[s, i] += b[ids[s], i] (each expert slot's bias row: rows of n_cols, ids bound as c).
layout(local_size_x = 256) in;
layout(binding = 0) buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
#if OP == 8
layout(binding = 2) readonly buffer C { int ids[]; };
#else
layout(binding = 2) buffer C { float c[]; };
#endif
layout(push_constant) uniform P { uint n, n_cols, per_z; float f, f2; } p;
float gelu(float v) { return 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); }
void main() {
  const uint i = gl_GlobalInvocationID.x + gl_WorkGroupID.y * p.per_z;
  if (i >= p.n) return;
#if OP == 0
  a[i] += b[i];
#elif OP == 1
  a[i] += b[i % p.n_cols];
#elif OP == 2
  a[i] *= p.f;
#elif OP == 3
  c[i] = a[i] / (1.0 + exp(-a[i])) * b[i];
#elif OP == 4
  c[i] = gelu(a[i]) * b[i];
#elif OP == 5
  c[i] = gelu(a[i]);
#elif OP == 6
  a[i] = p.f * tanh(a[i] / p.f);
#elif OP == 7
  const float g = min(a[i], p.f2), u = clamp(b[i], -p.f2, p.f2);
  c[i] = g / (1.0 + exp(-p.f * g)) * (u + 1.0);
#elif OP == 8
  a[i] += b[uint(ids[i / p.n_cols]) * p.n_cols + i % p.n_cols];
#endif
}
