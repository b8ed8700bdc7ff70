#version 450
// Rotates pairs of x [n_tok, n_heads * head_dim] in place by the host's cos/sin table
// cs [n_tok, n_dims / 2, 2] (ops::rope_angles: every RoPE variant, angles in double).
// Pairs: normal (2i, 2i + 1); NeoX (i, i + n_dims / 2).
layout(local_size_x = 64) in;
layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer CS { float cs[]; };
layout(push_constant) uniform P { uint n_tok, n_heads, head_dim, n_dims, neox, cs_off; } p;
void main() {
  const uint i = gl_GlobalInvocationID.x, h = gl_WorkGroupID.y, t = gl_WorkGroupID.z;
  const uint half_ = p.n_dims / 2;
  if (i >= half_) return;
  const uint base = t * p.n_heads * p.head_dim + h * p.head_dim;
  const uint i0 = p.neox != 0 ? i : 2 * i, i1 = p.neox != 0 ? i + half_ : 2 * i + 1;
  const float c = cs[p.cs_off + (t * half_ + i) * 2], s = cs[p.cs_off + (t * half_ + i) * 2 + 1];
  const float x0 = x[base + i0], x1 = x[base + i1];
  x[base + i0] = x0 * c - x1 * s;
  x[base + i1] = x0 * s + x1 * c;
}
