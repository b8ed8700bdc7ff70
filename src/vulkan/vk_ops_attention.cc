// VulkanBackend's attention: the KV-cache store (f32, f16, q8_0, q4_0 caches) and attention over
// it (plain, wide for the MLA latent, split over the keys for decode with a merge).

#include <algorithm>
#include <string>

#include "util/error.h"
#include "vulkan/vk_backend.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

namespace {

constexpr int64_t kSplitKeys = 512;     // keys per workgroup of a split decode attention
constexpr uint32_t kNoSinks = 0xffffffffu;  // attention's sinks_off when the shape has none

}  // namespace

using gguf::GgmlType;

void VulkanBackend::store_kv(const ops::KvView& cache, const ops::Tensor& k, const ops::Tensor& v,
                             const ops::SeqRows& rows) {
  const uint32_t rows_off = put_rows(rows);
  for (const auto& [dst, src] : {std::pair{&cache.k, &k}, std::pair{&cache.v, &v}}) {
    if (dst->empty()) continue;
    const uint32_t pc[] = {u32(dst->n_cols()), u32(cache.rows_per_seq()), u32(rows.n), rows_off,
                           u32(cache.ring)};
    // Invocations a row (store_kv.comp): quantized caches one per pair of 32-element blocks
    // (and one more for a row that starts half way into a word), F16 one per pair of elements
    // when the width is even, else one per element.
    const int64_t w = dst->n_cols();
    const bool quantized = dst->type == GgmlType::Q8_0 || dst->type == GgmlType::Q4_0;
    const int64_t per_row = quantized ? w / 32 / 2 + 1 : dst->type == GgmlType::F16 && w % 2 == 0 ? w / 2 : w;
    dispatch(std::string("store_kv_") + weight_suffix(dst->type), {buf(*src), ring(), buf(*dst)}, pc,
             sizeof pc, groups(per_row, 64), u32(rows.n), 1);
  }
}

void VulkanBackend::attention(const ops::AttentionShape& s, const ops::Tensor& q,
                              const ops::KvView& cache, const ops::SeqRows& rows,
                              const ops::Tensor& out) {
  if (s.head_dim_k > kMaxAttentionKey || s.head_dim_v > kMaxAttentionValue) {
    throw Error(ErrorCode::unsupported, "the Vulkan attention shader takes keys of at most " +
                                            std::to_string(kMaxAttentionKey) + " and values of at most " +
                                            std::to_string(kMaxAttentionValue));
  }
  // One workgroup row per query row: a dispatch dimension holds at most kMaxGroups (Vulkan's
  // guaranteed minimum), so a bigger pass would be cut short without a word.
  if (rows.n > kMaxGroups) {
    throw Error(ErrorCode::unsupported, "the Vulkan attention takes at most " + std::to_string(kMaxGroups) +
                                            " rows per pass, not " + std::to_string(rows.n) +
                                            " (lower num_batch)");
  }
  // Sinks travel in the parameter ring right after the rows (one put: a second could flush the
  // ring between them); the shaders read them as float bits.
  const uint32_t rows_off = put_rows(rows, s.sinks, s.sinks == nullptr ? 0 : s.n_head);
  const uint32_t sinks_off = s.sinks == nullptr ? kNoSinks : rows_off + u32(2 * rows.n);
  const ops::Tensor& vt = cache.v.empty() ? cache.k : cache.v;  // a latent cache: V is K's head
  int64_t max_kv = 0;
  for (int64_t t = 0; t < rows.n; ++t) max_kv = std::max<int64_t>(max_kv, rows.pos[t] + 1);
  // A few rows over a long context: split the keys so every compute unit has work.
  const bool split = rows.n <= 4 && max_kv > 2 * kSplitKeys;
  const uint32_t n_split = split ? groups(max_kv, kSplitKeys) : 1;
  struct {
    uint32_t n_head, n_head_kv, dk, dv, k_stride, v_stride, n_ctx, n, rows_off, window;
    float scale, softcap;
    uint32_t split_keys, n_split, ring, sinks_off;
  } pc{u32(s.n_head), u32(s.n_head_kv), u32(s.head_dim_k), u32(s.head_dim_v), u32(cache.k.n_cols()),
       u32(vt.n_cols()), u32(cache.rows_per_seq()), u32(rows.n), rows_off, u32(s.window), s.scale,
       s.softcap, u32(kSplitKeys), n_split, u32(cache.ring), sinks_off};
  const bool wide = s.head_dim_k > 256 || s.head_dim_v > 256;  // the MLA latent's variant
  const std::string kv = std::string(wide ? "wide_" : "") + weight_suffix(cache.k.type);
  if (!split) {
    dispatch("attention_" + kv, {buf(q), buf(cache.k), buf(vt), ring(), buf(out)}, &pc, sizeof pc,
             u32(s.n_head), u32(rows.n), 1);
    return;
  }
  const int64_t part_floats = rows.n * s.n_head * n_split * (s.head_dim_v + 2);
  if (parts_.empty() || parts_.n_elements() < part_floats) {
    release(parts_);
    parts_ = alloc(GgmlType::F32, part_floats, 1);
  }
  dispatch("attention_split_" + kv, {buf(q), buf(cache.k), buf(vt), ring(), buf(parts_)}, &pc,
           sizeof pc, u32(s.n_head), u32(rows.n), n_split);
  const uint32_t mp[] = {u32(s.n_head), u32(s.head_dim_v), n_split, sinks_off};
  dispatch("attention_merge", {buf(parts_), ring(), buf(out)}, mp, sizeof mp, u32(s.n_head), u32(rows.n), 1);
}

}  // namespace hearth::vulkan
