#version 450
// out [n_tok, n] = sum over slots j (in order) of weights[t, j] * e[t * k + j, :].
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer E { float e[]; };
layout(binding = 1) readonly buffer Wt { float w[]; };
layout(binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n, k, n_tok; } p;
void main() {
  const uint i = gl_GlobalInvocationID.x, t = gl_WorkGroupID.y;
  if (i >= p.n || t >= p.n_tok) return;
  float acc = 0.0;
  for (uint j = 0; j < p.k; ++j) acc += w[t * p.k + j] * e[(t * p.k + j) * p.n + i];
  o[t * p.n + i] = acc;
}
