#version 450
// Combines the split states of attention.comp (SPLIT): per (head h, row t), with M the largest
// running max of its n_split parts, out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M), the
// parts taken in order. A part that saw no key has l = 0 and m = -1e30 and adds nothing. With
// sinks (sinks_off != kNoSinks), head h's logit, the parameter ring's float at sinks_off + h,
// joins that denominator (softmax_sink.glsl: safe when it exceeds every score).
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer Parts { float part[]; };
layout(binding = 1) readonly buffer R { int params[]; };
layout(binding = 2) writeonly buffer O { float o[]; };
layout(push_constant) uniform P { uint n_head, dv, n_split, sinks_off; } p;
const uint kNoSinks = 0xffffffffu;
#include "softmax_sink.glsl"
void main() {
  const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  const uint base = (t * p.n_head + h) * p.n_split * (p.dv + 2);
  float mx = -1e30;
  for (uint s = 0; s < p.n_split; ++s) mx = max(mx, part[base + s * (p.dv + 2) + p.dv]);
  float l = 0.0;
  for (uint s = 0; s < p.n_split; ++s) {
    const uint b = base + s * (p.dv + 2);
    l += part[b + p.dv + 1] * exp(part[b + p.dv] - mx);
  }
  const bool has_sink = p.sinks_off != kNoSinks;
  const float sink = intBitsToFloat(params[has_sink ? p.sinks_off + h : 0]);  // never out of bounds
  const float inv = inverse_denominator(mx, l, has_sink, sink);
  for (uint d = tid; d < p.dv; d += 64) {
    float acc = 0.0;
    for (uint s = 0; s < p.n_split; ++s) {
      const uint b = base + s * (p.dv + 2);
      acc += part[b + d] * exp(part[b + p.dv] - mx);
    }
    o[(t * p.n_head + h) * p.dv + d] = acc * inv;
  }
}
