#pragma once
// Causal multi-head attention of a batch of query rows over a KV cache, with grouped-query heads
// (n_head a multiple of n_head_kv: query head h reads KV head h / (n_head / n_head_kv)). Each row
// names its own sequence's K/V and how many positions it sees, so rows of different sequences and
// positions mix freely in one call (continuous batching). Consecutive rows of one sequence are
// processed in tiles with all the query heads of one KV head, so each K/V block is read once for
// all of them (attention_kernels.h); a lone row over a long context is split into fixed chunks of
// keys merged in order. Work splits by tile; each output is computed in a fixed order that
// depends only on the rows, never on the thread count.

#include <cstdint>

#include "gguf/ggml_type.h"

namespace hearth::ops {

// Ring caches have a multiple of this many slots per sequence: the CPU kernel reads keys in
// aligned blocks (kAttnKeyBlock divides it), which then never straddle the ring's end.
inline constexpr int64_t kKvRingMultiple = 64;

// F16 key caches of the CPU backend store positions in tiles of this many (AttentionShape::k_tiles):
// element (position p, column c) at (p / kKvKeyTile) * kKvKeyTile * k_stride + c * kKvKeyTile +
// p % kKvKeyTile, so a column of a tile's keys is one vector and decode scores each key in a lane
// of its own, with no horizontal sums (attention_tile.h). Same bytes as rows. With k_tiles, every
// AttentionRow::k must start on a tile, and the whole tile holding a row's last key must be
// readable (the kernel reads whole tiles and masks what the row does not see): the CPU backend
// tiles a cache only when its sequences are whole tiles (rows_per_seq a multiple of kKvKeyTile).
inline constexpr int64_t kKvKeyTile = 16;
static_assert(kKvRingMultiple % kKvKeyTile == 0, "a ring's slots must be whole key tiles");

// Where element (position `slot`, column `col`) of K lies, in elements from row 0.
inline int64_t kv_key_index(bool tiles, int64_t stride, int64_t slot, int64_t col) {
  return tiles ? (slot / kKvKeyTile) * kKvKeyTile * stride + col * kKvKeyTile + slot % kKvKeyTile
               : slot * stride + col;
}

struct AttentionShape {
  int n_head = 0;
  int n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  int64_t k_stride = 0;  // elements between positions in K (n_head_kv * head_dim_k when packed)
  int64_t v_stride = 0;  // elements between positions in V
  // F16, F32, or Q8_0/Q4_0 (rows of whole blocks: kv_quant.h; strides count elements)
  gguf::GgmlType kv_type = gguf::GgmlType::F16;
  // K in tiles of kKvKeyTile positions (F16 only, values in a V of their own; see kKvKeyTile).
  bool k_tiles = false;
  float scale = 1.0f;    // applied to q.k (usually 1 / sqrt(head_dim_k))
  // Scores become softcap * tanh(score / softcap) when > 0 (Gemma 2's attention soft-capping).
  float softcap = 0.0f;
  // Sliding-window layers: a row at position p sees [p - window + 1, p]; 0 = every position.
  // Read by Backend::attention, which sets each row's kv_start from it.
  int64_t window = 0;
  // A ring cache (KvView::ring): position p is row p % ring of the row's k and v; 0: row p.
  // A multiple of kKvRingMultiple, so a block of keys never wraps. Set by Backend::attention.
  int64_t ring = 0;
  // Attention sinks (gpt-oss): per query head a learned logit that joins the softmax's
  // denominator without a value, p_j = e^(s_j) / (e^(sink_h) + sum_i e^(s_i)), so a head may
  // attend to "nothing". Host array of n_head floats (the model's small parameter table); null = none.
  const float* sinks = nullptr;
};

struct AttentionRow {
  const float* q = nullptr;  // [n_head, head_dim_k]
  const void* k = nullptr;   // this sequence's K at row 0: [n_kv or ring, k_stride] of kv_type
  const void* v = nullptr;   // this sequence's V at row 0: [n_kv or ring, v_stride] of kv_type
  int64_t n_kv = 0;          // attend to positions [kv_start, n_kv)
  float* out = nullptr;      // [n_head, head_dim_v]
  int64_t kv_start = 0;
};

// Threaded over the global thread pool (call it from outside pool tasks). A row with no
// position to see (kv_start >= n_kv) gets zeros.
void attention(const AttentionShape& shape, const AttentionRow* rows, int64_t n_rows);

// The specification: one thread, scores, softmax and weighted sum in double. attention() matches
// it up to float rounding, except over Q8_0 keys whose heads are whole blocks (head_dim_k a
// multiple of 32): there the queries (times scale) are first rounded to int8 blocks of 32
// (kv_quantize_query_block in kv_quant.h, a step of max|x| / 127 per block) for integer dot
// products, as a Q8_0 matmul rounds its activations; attention_ref fed those rounded queries
// (kv_query_as_quantized) is what it computes.
void attention_ref(const AttentionShape& shape, const AttentionRow* rows, int64_t n_rows);

}  // namespace hearth::ops
