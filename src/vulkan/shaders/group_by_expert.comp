#version 450
// The slots of a mixture-of-experts product grouped by expert, for matmul_tiled.comp's EXPERTS
// form: groups = count[n_expert], first[n_expert], then the slots (indices into ids) of expert 0,
// of expert 1, ..., each expert's in increasing order; expert e's are at 2 n_expert + first[e].
// One workgroup per expert: each invocation scans its contiguous share of the ids, counting those
// below e (whose sum is first[e]) and equal to e; a prefix over the invocations places each one's
// slots. Ids outside [0, n_expert) belong to no expert (their rows of y are left alone).
// Loop iterations per invocation: 2 n_slots / 64 + 64 (lavapipe: under 65,535 up to ~2M slots).
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer Ids { int ids[]; };
layout(binding = 1) writeonly buffer Groups { uint groups[]; };
layout(push_constant) uniform P { uint n_slots, n_expert; } p;
shared uint below[64], equal[64];
void main() {
  const uint e = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
  const uint share = (p.n_slots + 63) / 64;
  const uint begin = min(tid * share, p.n_slots), end = min(begin + share, p.n_slots);
  uint n_below = 0, n_equal = 0;
  for (uint s = begin; s < end; ++s) {
    const int id = ids[s];
    n_below += id >= 0 && uint(id) < e ? 1 : 0;
    n_equal += id == int(e) ? 1 : 0;
  }
  below[tid] = n_below;
  equal[tid] = n_equal;
  barrier();
  uint first = 0, count = 0, before = 0;
  for (uint i = 0; i < 64; ++i) {
    first += below[i];
    count += equal[i];
    before += i < tid ? equal[i] : 0;
  }
  if (tid == 0) {
    groups[e] = count;
    groups[p.n_expert + e] = first;
  }
  uint at = 2 * p.n_expert + first + before;
  for (uint s = begin; s < end; ++s) {
    if (ids[s] == int(e)) groups[at++] = s;
  }
}
