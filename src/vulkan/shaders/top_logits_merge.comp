#version 450
// The second pass of top_logits (top_logits.comp writes the chunks' parts): out [n_rows, 2 + 2k] =
// each row's max, log-sum-exp, k best logits and their ids (ops/top_logits.h: best first, equal
// logits in id order, NaN as -inf, -0 equal to +0); one workgroup a row.
// The row's max is the chunks' largest, its sum of exp(x - max) the chunks' sums rescaled to it.
// The row's k best are among the chunks' k best (a chunk's list holds every one of its logits
// that beats its k-th, in the same total order: key, then id). A candidate's place in the row
// is the count of candidates that beat it: its place in its own chunk's list plus, for each other
// chunk, how many of that chunk's sorted list beat it (a binary search). Those placed below k are
// written. Loop iterations per invocation: (n_chunks k / 256) x n_chunks x log2(k), at most
// 8 x 32 x 6; shared memory 16.3 KiB (n_chunks <= 32: the host sizes chunks so).
// No subgroup operations: nothing assumes a subgroup size.
layout(local_size_x = 256) in;
layout(binding = 0) readonly buffer L { uint logits[]; };  // float bits (the values written)
layout(binding = 1) readonly buffer Q { uint part[]; };    // the chunks' parts
layout(binding = 2) writeonly buffer O { uint o[]; };      // float bits, then int32 ids
layout(push_constant) uniform P { uint n_rows, n, k, per_z, n_chunks; } p;

const uint WG = 256;
const uint MAX_K = 64;        // ops::kMaxTopLogits
const uint MAX_CHUNKS = 32;   // vk_ops_sampling.cc's kMaxChunks

shared uint cand_key[MAX_CHUNKS * MAX_K];  // chunk c's list at c * k, best first
shared uint cand_id[MAX_CHUNKS * MAX_K];
shared float chunk_max[MAX_CHUNKS];
shared float chunk_sum[MAX_CHUNKS];

#include "top_logits.glsl"

// Whether (key a, id ia) comes before (key b, id ib): the larger key, or on a tie the lower id.
bool beats(uint a, uint ia, uint b, uint ib) { return a > b || (a == b && ia < ib); }

// How many of chunk c's list beat (key, id): the list is sorted best first, so they are its
// first entries. (An empty place, key 0, beats nothing.)
uint count_beating(uint c, uint key, uint id) {
  uint lo = c * p.k, hi = lo + p.k;
  const uint first = lo;
  while (lo < hi) {
    const uint mid = (lo + hi) / 2;
    if (beats(cand_key[mid], cand_id[mid], key, id)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo - first;
}

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.z * p.per_z, t = gl_LocalInvocationID.x;
  if (row >= p.n_rows) return;  // the whole workgroup leaves together
  const uint stride = 2u + 2u * p.k, pb = row * p.n_chunks * stride, n_cand = p.n_chunks * p.k;
  const float neg_inf = uintBitsToFloat(NEG_INF);
  for (uint i = t; i < n_cand; i += WG) {
    const uint c = i / p.k, j = i - c * p.k, at = pb + c * stride + 2u;
    cand_key[i] = part[at + j];
    cand_id[i] = part[at + p.k + j];
  }
  if (t < p.n_chunks) {
    chunk_max[t] = uintBitsToFloat(part[pb + t * stride]);
    chunk_sum[t] = uintBitsToFloat(part[pb + t * stride + 1u]);
  }
  barrier();

  const uint ob = row * stride;
  if (t == 0) {
    float mx = neg_inf;
    for (uint c = 0; c < p.n_chunks; ++c) mx = max(mx, chunk_max[c]);
    float sum = 0.0;
    for (uint c = 0; c < p.n_chunks; ++c) {
      if (chunk_max[c] != neg_inf) sum += chunk_sum[c] * exp(chunk_max[c] - mx);
    }
    o[ob] = floatBitsToUint(mx);
    o[ob + 1] = floatBitsToUint(mx == neg_inf || isinf(mx) ? mx : mx + log(sum));
  }
  for (uint i = t; i < n_cand; i += WG) {
    const uint key = cand_key[i], id = cand_id[i];
    if (key == 0u) continue;  // an empty place of a short chunk
    const uint c = i / p.k;
    uint place = i - c * p.k;
    for (uint other = 0; other < p.n_chunks && place < p.k; ++other) {
      if (other != c) place += count_beating(other, key, id);
    }
    if (place < p.k) {
      o[ob + 2u + place] = logit_bits(row * p.n + id);
      o[ob + 2u + p.k + place] = id;
    }
  }
  // A row shorter than k: the places past its length.
  if (t >= min(p.k, p.n) && t < p.k) {
    o[ob + 2u + t] = NEG_INF;
    o[ob + 2u + p.k + t] = 0xffffffffu;
  }
}
