#version 450
// The first of top_logits' two passes (top_logits_merge.comp is the second): one workgroup per
// chunk of a row (a row of n logits is cut into n_chunks chunks of `chunk` logits, the last one
// shorter), so that one row keeps many workgroups busy. Each writes its chunk's part, 2 + 2k
// words at (row * n_chunks + c) * (2 + 2k): the chunk's max, its sum of exp(x - max), its k best
// as order-preserving keys (below) best first, then their ids in the row; equal keys in id
// order (ops/top_logits.h's order: NaN as -inf, -0 equal to +0). A chunk shorter than k pads
// its list with key 0, which no logit has, and id 0xffffffff.
// The k best are found by a radix select on the keys: four passes of a 256-bin histogram (one
// byte of the key each, among the values whose higher bytes equal the prefix chosen so far)
// give the key T of the k-th best and how many values equal to T it takes (`need`). Then every
// value above T is a candidate (fewer than k), and so are the first `need` values equal to T in
// id order: each invocation counts those in its own contiguous stretch, a prefix sum over the
// invocations gives each its first rank. The at most 64 candidates are ranked by comparing each
// with all the others. Loop iterations per invocation: about 7 chunk / 256 (224 for chunks of
// 8,192), far below lavapipe's 65,535; shared memory 4.6 KiB.
// No subgroup operations: nothing assumes a subgroup size.
layout(local_size_x = 256) in;
layout(binding = 0) readonly buffer L { uint logits[]; };  // float bits
layout(binding = 1) writeonly buffer O { uint part[]; };  // the chunks' parts
layout(push_constant) uniform P { uint n_rows, n, k, per_z, chunk, n_chunks; } p;

const uint WG = 256;
const uint MAX_K = 64;  // ops::kMaxTopLogits

shared float red_max[WG];
shared float red_sum[WG];
shared uint hist[256];
shared uint ranks[WG];  // per invocation: its count of values equal to T, then the first rank
shared uint sel_key[MAX_K];
shared uint sel_id[MAX_K];
shared uint n_above, s_prefix, s_need;

#include "top_logits.glsl"

void main() {
  const uint row = gl_WorkGroupID.y + gl_WorkGroupID.z * p.per_z, t = gl_LocalInvocationID.x;
  if (row >= p.n_rows) return;  // the whole workgroup leaves together
  // This chunk: logits [lo, lo + len) of the row; ids below are relative to lo until written.
  const uint lo = gl_WorkGroupID.x * p.chunk, len = min(p.chunk, p.n - lo);
  const uint base = row * p.n + lo, kk = min(p.k, len);
  const float neg_inf = uintBitsToFloat(NEG_INF);

  // Max and sum of exp(x - max), online per invocation, then combined pairwise.
  float m = neg_inf, s = 0.0;
  for (uint i = t; i < len; i += WG) {
    const float x = uintBitsToFloat(logit_bits(base + i));
    if (x == neg_inf) continue;
    if (x > m) {
      s = s * exp(m - x) + 1.0;
      m = x;
    } else {
      s += exp(x - m);
    }
  }
  red_max[t] = m;
  red_sum[t] = s;
  barrier();
  for (uint half_ = WG / 2; half_ > 0; half_ >>= 1) {
    if (t < half_) {
      const float m1 = red_max[t], m2 = red_max[t + half_], mm = max(m1, m2);
      const float s1 = m1 == neg_inf ? 0.0 : red_sum[t] * exp(m1 - mm);
      const float s2 = m2 == neg_inf ? 0.0 : red_sum[t + half_] * exp(m2 - mm);
      red_max[t] = mm;
      red_sum[t] = s1 + s2;
    }
    barrier();
  }

  // Radix select of the kk-th best key, most significant byte first.
  uint prefix = 0u, need = kk;
  for (uint pass = 0; pass < 4; ++pass) {
    const uint shift = 24u - 8u * pass;
    const uint high = pass == 0 ? 0u : (0xffffffffu << (shift + 8u));
    hist[t] = 0u;  // WG == 256 bins
    barrier();
    for (uint i = t; i < len; i += WG) {
      const uint key = key_of(logit_bits(base + i));
      if ((key & high) == prefix) atomicAdd(hist[(key >> shift) & 255u], 1u);
    }
    barrier();
    if (t == 0) {
      // The bin holding the need-th best among those left: bins above it hold fewer than need.
      uint above = 0u, d = 255u;
      for (; d > 0u && above + hist[d] < need; --d) above += hist[d];
      s_prefix = prefix | (d << shift);
      s_need = need - above;
      n_above = 0u;
    }
    barrier();
    prefix = s_prefix;
    need = s_need;
  }
  // prefix is now the key T of the kk-th best: kk - need values are above it, and the first
  // `need` of those equal to it (in id order) complete the candidates.

  const uint stretch = (len + WG - 1) / WG, begin = min(t * stretch, len), end = min(begin + stretch, len);
  uint equal = 0u;
  for (uint i = begin; i < end; ++i) {
    const uint key = key_of(logit_bits(base + i));
    if (key > prefix) {
      const uint at = atomicAdd(n_above, 1u);
      sel_key[at] = key;
      sel_id[at] = i;
    } else if (key == prefix) {
      ++equal;
    }
  }
  ranks[t] = equal;
  barrier();
  if (t == 0) {
    uint acc = 0u;
    for (uint j = 0; j < WG; ++j) {
      const uint c = ranks[j];
      ranks[j] = acc;
      acc += c;
    }
  }
  barrier();
  uint rank = ranks[t];
  const uint first_equal = kk - need;
  for (uint i = begin; i < end && rank < need; ++i) {
    if (key_of(logit_bits(base + i)) == prefix) {
      sel_key[first_equal + rank] = prefix;
      sel_id[first_equal + rank] = i;
      ++rank;
    }
  }
  barrier();

  const uint pb = (row * p.n_chunks + gl_WorkGroupID.x) * (2u + 2u * p.k);
  if (t == 0) {
    part[pb] = floatBitsToUint(red_max[0]);
    part[pb + 1] = floatBitsToUint(red_sum[0]);
  }
  if (t < kk) {
    const uint key = sel_key[t], id = sel_id[t];
    uint place = 0u;
    for (uint j = 0; j < kk; ++j) {
      place += (sel_key[j] > key || (sel_key[j] == key && sel_id[j] < id)) ? 1u : 0u;
    }
    part[pb + 2u + place] = key;
    part[pb + 2u + p.k + place] = lo + id;
  } else if (t < p.k) {
    part[pb + 2u + t] = 0u;
    part[pb + 2u + p.k + t] = 0xffffffffu;
  }
}
