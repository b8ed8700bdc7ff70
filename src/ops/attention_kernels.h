#pragma once
// The per-tier kernel of attention (attention.cc splits the work, the kernel does the math).
// One tile is a block of query rows of one sequence times the query heads that share one KV
// head, over a range of that sequence's keys: K/V rows are converted to float once per block of
// kAttnKeyBlock keys and reused by every query of the tile (GQA heads and prompt rows alike);
// softmax is online (running max and sum per query, one pass over the keys). The algorithm is
// written once (attention_tile.h) and compiled per tier: ref (scalar, baseline x86-64), avx2,
// avx512; attention_kernels(cpu_tier()) picks one (HEARTH_CPU pins it).

#include <cmath>
#include <cstdint>

#include "ops/attention.h"
#include "util/cpu_features.h"

namespace hearth::ops {

// Keys per block of the tiled kernel: K and V blocks of 64 x 128 floats stay in L1/L2 while every
// query of the tile reads them.
inline constexpr int64_t kAttnKeyBlock = 64;
static_assert(kKvRingMultiple % kAttnKeyBlock == 0, "a block of keys must not wrap around a ring");
// Blocks start on key tiles (attention.h), and a block's tiles fit its score row and K scratch.
static_assert(kAttnKeyBlock % kKvKeyTile == 0, "a block of keys must be whole key tiles");

struct AttentionTile {
  const AttentionShape* shape = nullptr;
  const AttentionRow* rows = nullptr;  // n_q rows sharing one sequence's k and v
  int n_q = 0;
  // KV heads [kv_head, kv_head + n_kv_heads): a lone decode row's split takes all of them, so
  // each block reads whole cache rows (one stream per K and V, not one per head's slice).
  int kv_head = 0;
  int n_kv_heads = 1;
  // Keys [key_begin, key_end) of the sequence; each row still sees only its [0, n_kv).
  int64_t key_begin = 0, key_end = 0;
  // A split of the keys writes its unnormalized state here (queries m = (h * n_q + row) * group
  // + g for the tile's h-th KV head, group = n_head / n_head_kv): o [queries, head_dim_v],
  // running max m and sum l [queries], queries = n_kv_heads * n_q * group.
  // Null: the tile covers all keys and writes the normalized output to rows[i].out.
  float* part_o = nullptr;
  float* part_m = nullptr;
  float* part_l = nullptr;
  // Working memory of the kernel: attention_scratch_floats(shape, n_q, n_kv_heads) floats, 64-byte aligned.
  // The caller owns it (the tier files allocate nothing: a std::vector instantiated there could
  // give baseline callers its AVX copy).
  float* scratch = nullptr;
};

// Scratch floats a tile needs: Q [q, dk], K [block, dk], V [block, dv], S [q, block], O [q, dv],
// 3 [q], with q = n_kv_heads * n_q * group and head sizes rounded up to the widest vector (16 floats). Q8_0
// keys read as int8 (head_dim_k a multiple of 32) add, from the next 64-byte boundary, per query
// nblk2 (the head's blocks rounded up to even) x (32 codes + 8 scales + 8 corrections), the
// block's key scales [block, nblk2] and a zero row of nblk2 blocks (attention_tile.h).
static inline int64_t attention_scratch_floats(const AttentionShape& s, int n_q, int n_kv_heads = 1) {
  const int64_t q = static_cast<int64_t>(n_q) * n_kv_heads * (s.n_head / s.n_head_kv);
  const int64_t dk = (s.head_dim_k + 15) / 16 * 16, dv = (s.head_dim_v + 15) / 16 * 16;
  int64_t n = q * dk + kAttnKeyBlock * (dk + dv) + q * kAttnKeyBlock + q * dv + 3 * q;
  if (s.kv_type == gguf::GgmlType::Q8_0 && s.head_dim_k % 32 == 0) {
    const int64_t nblk2 = (s.head_dim_k / 32 + 1) / 2 * 2;
    n += 16 + q * nblk2 * 24 + kAttnKeyBlock * nblk2 + nblk2 * 9;
  }
  return n;
}

// What a query's unnormalized output o is multiplied by: 1 / the softmax denominator, given its
// running max m and sum l (of e^(s - m) over its keys), with the head's sink logit joining the
// denominator when the shape has sinks (AttentionShape::sinks). No keys (l = 0): 0, o is zero.
// A sink above every score is factored out instead (e^(m - sink) <= 1), so nothing overflows.
static inline float attn_inverse_denominator(float m, float l, const float* sinks, int head) {
  if (!(l > 0.0f)) return 0.0f;
  if (sinks == nullptr) return 1.0f / l;
  const float sink = sinks[head];
  if (sink <= m) return 1.0f / (l + std::exp(sink - m));
  const float a = std::exp(m - sink);
  return a / (l * a + 1.0f);
}

struct AttentionKernels {
  const char* isa = "ref";
  void (*attend)(const AttentionTile& tile) = nullptr;
};

const AttentionKernels& attention_kernels(CpuTier tier);

// Tier entry points (x86/avx2, x86/avx512): overwrite what they have a faster version of.
void register_attention_avx2(AttentionKernels& k);
void register_attention_avx512(AttentionKernels& k);

}  // namespace hearth::ops
