#version 450
// The work list of the tiled experts' products (matmul_tiled.comp's EXPERTS form), written after
// group_by_expert.comp into the same buffer: each expert's slots cut into tiles of TT, one work
// item (expert, first slot of the tile within the expert's list) per tile, experts in order, and
// the VkDispatchIndirectCommand that launches the products: row tiles x work items x 1. Only
// tiles that hold slots get a workgroup: with 256 experts and a long prompt most experts' tiles
// would otherwise be empty workgroups that exit at once.
//
// Words after the grouping (tail = 2 n_expert + n_slots): [tail, tail + 3) the command (x: the
// call's row tiles; y: the item count capped at max_y, the device's maxComputeWorkGroupCount[1],
// the products looping over further items; z: 1), tail + 3 the item count, then the items, two
// words each. One workgroup; each invocation takes a contiguous share of the experts, a prefix of
// the invocations' tile counts places its items. Loop iterations per invocation: n_expert / 64 +
// 64 + the tiles of its experts (lavapipe: under 65,535 unless one expert has ~1M slots).
layout(local_size_x = 64) in;
layout(binding = 0) buffer Groups { uint groups[]; };
layout(push_constant) uniform P { uint n_slots, n_expert, tt, row_tiles, max_y; } p;
shared uint tiles[64];
void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint share = (p.n_expert + 63) / 64;
  const uint begin = min(tid * share, p.n_expert), end = min(begin + share, p.n_expert);
  uint n = 0;
  for (uint e = begin; e < end; ++e) n += (groups[e] + p.tt - 1) / p.tt;
  tiles[tid] = n;
  barrier();
  uint total = 0, before = 0;
  for (uint i = 0; i < 64; ++i) {
    total += tiles[i];
    before += i < tid ? tiles[i] : 0;
  }
  const uint tail = 2 * p.n_expert + p.n_slots;
  if (tid == 0) {
    groups[tail] = p.row_tiles;
    groups[tail + 1] = min(total, p.max_y);
    groups[tail + 2] = 1;
    groups[tail + 3] = total;
  }
  uint at = tail + 4 + 2 * before;
  for (uint e = begin; e < end; ++e) {
    const uint count = groups[e];
    for (uint t0 = 0; t0 < count; t0 += p.tt) {
      groups[at++] = e;
      groups[at++] = t0;
    }
  }
}
