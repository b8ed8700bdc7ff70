#include "ops/attention.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ops/activation_simd.h"
#include "ops/attention_kernels.h"
#include "ops/attention_tile.h"
#include "ops/kv_quant.h"
#include "quant/fp16.h"
#include "util/check.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {

// A tile aims at this many query vectors (rows x the heads of one KV head): enough to reuse each
// converted K/V block many times, few enough that the diagonal block of a prompt wastes little.
// 48 -> 96 (16 rows of the 1.5B model's 6 heads a KV head; kMaxTileRows caps smaller groups):
// ops_attention prompt512_ctx4096, 2 threads, alternated twice, AVX-512 30.3-31.0 -> 28.6-28.8
// ms, AVX2 59.9-61.8 -> 57.9-58.4, prompt512 unchanged; hearth bench Q8_0 file pp8192 250.1,
// 255.3 -> 265.6, 267.6 t/s.
constexpr int kTileQueries = 96;
constexpr int kMaxTileRows = 16;
// A lone query row (decode) over more than 2 x kSplitKeys keys is split into chunks, merged
// afterwards in chunk order: long contexts then use every thread even with few KV heads. The
// split depends only on n_kv, never on the thread count: 8 chunks of at least kSplitKeys keys,
// at most 4 x kSplitKeys. Fewer, longer chunks pay less per chunk (the first block of each is
// read before its arithmetic, not during the block before it, and Q8_0 queries are quantized once
// per chunk): ops_attention decode_ctx16384_cold, 2 threads, alternated twice, 512-key chunks
// against n_kv / 8 (2,048 keys): F16 204-215 -> 213-235, Q8_0 213-221 -> 251-255 M head-keys/s.
constexpr int64_t kSplitKeys = 512;
int64_t split_keys(int64_t n_kv) {
  const int64_t eighth = (n_kv / 8 + kAttnKeyBlock - 1) / kAttnKeyBlock * kAttnKeyBlock;
  return std::clamp<int64_t>(eighth, kSplitKeys, 4 * kSplitKeys);
}

struct Tile {
  int64_t first_row = 0;
  int n_q = 0;
  int kv_head = 0, n_kv_heads = 1;
  int64_t key_begin = 0, key_end = 0;
  int64_t part = -1;  // offset of its split state in the partials buffer, or -1
};

AttentionKernels build_kernels(CpuTier tier) {
  AttentionKernels k;
  k.attend = attend_tile<ScalarSimd>;
  if (tier >= CpuTier::avx2) register_attention_avx2(k);
  if (tier >= CpuTier::avx512) register_attention_avx512(k);
  return k;
}

// Reads element i (position i / stride, column i % stride) of a cache of any type.
inline float kv_at(const void* base, gguf::GgmlType type, int64_t stride, int64_t i) {
  if (type == gguf::GgmlType::F32) return static_cast<const float*>(base)[i];
  if (type == gguf::GgmlType::F16) return quant::fp16_to_f32(static_cast<const uint16_t*>(base)[i]);
  const uint8_t* row = static_cast<const uint8_t*>(base) + (i / stride) * kv_row_bytes(type, stride);
  return kv_quant_at(row, type == gguf::GgmlType::Q8_0, i % stride);
}

// Tiled keys (AttentionShape::k_tiles) are F16 with values of their own: a latent cache, whose
// values are its keys' first columns, stays rows.
bool key_tiles_valid(const AttentionShape& s, const AttentionRow* rows, int64_t n_rows) {
  return !s.k_tiles || (s.kv_type == gguf::GgmlType::F16 && (n_rows <= 0 || rows[0].v != rows[0].k));
}

// Combines the chunks [first, first + n) of one split row (all its heads), in chunk order.
void merge_split(const AttentionShape& s, const AttentionRow& row, const Tile* tiles, int64_t n,
                 const float* parts) {
  const int n_q = s.n_head;  // a split tile holds every KV head's queries of its one row
  const int64_t dv = s.head_dim_v;
  for (int h = 0; h < n_q; ++h) {
    float mx = -INFINITY;
    for (int64_t c = 0; c < n; ++c) {
      mx = std::max(mx, parts[tiles[c].part + n_q * dv + h]);
    }
    float* out = row.out + static_cast<int64_t>(h) * dv;
    std::fill(out, out + dv, 0.0f);
    float sum = 0.0f;
    for (int64_t c = 0; c < n; ++c) {
      const float* o = parts + tiles[c].part;
      const float m = o[n_q * dv + h];
      if (m == -INFINITY) continue;
      const float w = std::exp(m - mx);
      sum += o[n_q * dv + n_q + h] * w;
      for (int64_t d = 0; d < dv; ++d) out[d] += o[h * dv + d] * w;
    }
    const float inv = attn_inverse_denominator(mx, sum, s.sinks, h);
    for (int64_t d = 0; d < dv; ++d) out[d] *= inv;
  }
}

}  // namespace

const AttentionKernels& attention_kernels(CpuTier tier) {
  static const std::array<AttentionKernels, 3> tables = {
      build_kernels(CpuTier::ref), build_kernels(std::min(CpuTier::avx2, cpu_max_tier())),
      build_kernels(cpu_max_tier())};
  return tables[static_cast<int>(std::min(tier, cpu_max_tier()))];
}

void attention(const AttentionShape& shape, const AttentionRow* rows, int64_t n_rows) {
  if (n_rows <= 0) return;
  HEARTH_CHECK(shape.ring % kAttnKeyBlock == 0);  // a key block never wraps around the ring
  HEARTH_CHECK(key_tiles_valid(shape, rows, n_rows));
  const AttentionKernels& kern = attention_kernels(cpu_tier());
  const int group = shape.n_head / shape.n_head_kv;
  const int block_rows = std::clamp(kTileQueries / group, 1, kMaxTileRows);
  const int64_t part_size = shape.n_head * (shape.head_dim_v + 2);

  // Tiles: runs of consecutive rows of one sequence (same k and v), per KV head.
  static thread_local std::vector<Tile> tiles_tl;
  static thread_local std::vector<int64_t> order_tl;
  static thread_local std::vector<float> parts_tl;
  std::vector<Tile>& tiles = tiles_tl;
  tiles.clear();
  int64_t part_floats = 0;
  bool any_split = false;
  for (int64_t r = 0; r < n_rows;) {
    int n_q = 1;
    int64_t max_kv = rows[r].n_kv;
    while (r + n_q < n_rows && n_q < block_rows && rows[r + n_q].k == rows[r].k &&
           rows[r + n_q].v == rows[r].v) {
      max_kv = std::max(max_kv, rows[r + n_q].n_kv);
      ++n_q;
    }
    if (n_q == 1 && max_kv > 2 * kSplitKeys) {
      // All KV heads in one tile: its blocks read whole cache rows, one stream each for K and V.
      any_split = true;
      const int64_t split = split_keys(max_kv);
      const int64_t first_key = rows[r].kv_start / split * split;
      for (int64_t kb = first_key; kb < max_kv; kb += split) {
        tiles.push_back({r, 1, 0, shape.n_head_kv, kb, std::min(kb + split, max_kv), part_floats});
        part_floats += part_size;
      }
    } else {
      for (int h = 0; h < shape.n_head_kv; ++h) tiles.push_back({r, n_q, h, 1, 0, std::max<int64_t>(max_kv, 0), -1});
    }
    r += n_q;
  }
  std::vector<float>& parts = parts_tl;
  if (static_cast<int64_t>(parts.size()) < part_floats) parts.resize(static_cast<size_t>(part_floats));

  // Biggest tiles first, so the pool's last tasks are small ones.
  std::vector<int64_t>& order = order_tl;
  order.resize(tiles.size());
  int64_t work = 0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    order[i] = static_cast<int64_t>(i);
    work += tiles[i].n_q * tiles[i].n_kv_heads * (tiles[i].key_end - tiles[i].key_begin);
  }
  const Tile* tl = tiles.data();
  auto size = [tl](int64_t i) { return tl[i].n_q * tl[i].n_kv_heads * (tl[i].key_end - tl[i].key_begin); };
  std::stable_sort(order.begin(), order.end(), [&size](int64_t a, int64_t b) { return size(a) > size(b); });
  const int64_t* ord = order.data();
  float* pp = parts.data();
  auto run_tile = [&shape, rows, tl, ord, pp, &kern](int64_t task, int) {
    const Tile& t = tl[ord[task]];
    static thread_local std::vector<float> scratch_tl;
    std::vector<float>& scratch = scratch_tl;
    const size_t need = static_cast<size_t>(attention_scratch_floats(shape, t.n_q, t.n_kv_heads)) + 16;
    if (scratch.size() < need) scratch.resize(need);
    AttentionTile at;
    at.scratch = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
    at.shape = &shape;
    at.rows = rows + t.first_row;
    at.n_q = t.n_q;
    at.kv_head = t.kv_head;
    at.n_kv_heads = t.n_kv_heads;
    at.key_begin = t.key_begin;
    at.key_end = t.key_end;
    if (t.part >= 0) {
      at.part_o = pp + t.part;
      at.part_m = at.part_o + shape.n_head * shape.head_dim_v;
      at.part_l = at.part_m + shape.n_head;
    }
    kern.attend(at);
  };
  // Small work runs on the calling thread (same results: each tile is computed the same way).
  work *= shape.n_head * (shape.head_dim_k + shape.head_dim_v);
  const int64_t n_tiles = static_cast<int64_t>(tiles.size());
  if (work < 16384) {
    for (int64_t i = 0; i < n_tiles; ++i) run_tile(i, 0);
  } else {
    global_thread_pool().run(n_tiles, run_tile);
  }

  if (!any_split) return;
  for (int64_t i = 0; i < n_tiles;) {
    if (tiles[i].part < 0) {
      ++i;
      continue;
    }
    int64_t n = 1;
    while (i + n < n_tiles && tiles[i + n].part >= 0 && tiles[i + n].first_row == tiles[i].first_row) ++n;
    merge_split(shape, rows[tiles[i].first_row], tl + i, n, parts.data());
    i += n;
  }
}

void attention_ref(const AttentionShape& s, const AttentionRow* rows, int64_t n_rows) {
  HEARTH_CHECK(key_tiles_valid(s, rows, n_rows));
  const int group = s.n_head / s.n_head_kv;
  for (int64_t t = 0; t < n_rows; ++t) {
    const AttentionRow& r = rows[t];
    std::vector<double> scores(static_cast<size_t>(r.n_kv));
    for (int h = 0; h < s.n_head; ++h) {
      const int kvh = h / group;
      const int64_t first = std::max<int64_t>(r.kv_start, 0);
      double m = -INFINITY;
      for (int64_t p = first; p < r.n_kv; ++p) {
        const int64_t slot = s.ring > 0 ? p % s.ring : p;
        double dot = 0.0;
        for (int64_t i = 0; i < s.head_dim_k; ++i) {
          dot += static_cast<double>(r.q[h * s.head_dim_k + i]) *
                 kv_at(r.k, s.kv_type, s.k_stride, kv_key_index(s.k_tiles, s.k_stride, slot, kvh * s.head_dim_k + i));
        }
        scores[p] = dot * s.scale;
        if (s.softcap > 0.0f) scores[p] = s.softcap * std::tanh(scores[p] / s.softcap);
        m = scores[p] > m ? scores[p] : m;
      }
      double sum = 0.0;
      if (s.sinks != nullptr && first < r.n_kv) {  // the sink joins the denominator only
        m = std::max<double>(m, s.sinks[h]);
        sum = std::exp(s.sinks[h] - m);
      }
      for (int64_t p = first; p < r.n_kv; ++p) {
        scores[p] = std::exp(scores[p] - m);
        sum += scores[p];
      }
      for (int64_t i = 0; i < s.head_dim_v; ++i) {
        double acc = 0.0;
        for (int64_t p = first; p < r.n_kv; ++p) {
          const int64_t slot = s.ring > 0 ? p % s.ring : p;
          acc += scores[p] * kv_at(r.v, s.kv_type, s.v_stride, slot * s.v_stride + kvh * s.head_dim_v + i);
        }
        r.out[h * s.head_dim_v + i] = sum > 0.0 ? static_cast<float>(acc / sum) : 0.0f;
      }
    }
  }
}

}  // namespace hearth::ops
