// VulkanBackend's products: y = x W^T in three forms, the mixture-of-experts products (per slot,
// or grouped by expert and tiled), the router (top-k gating) and the experts' weighted sum.

#include <algorithm>
#include <string>
#include <vector>

#include "util/check.h"
#include "util/error.h"
#include "vulkan/vk_backend.h"
#include "vulkan/vk_testing.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

namespace {

// topk_gating.comp's `func`.
uint32_t gating_func(ops::GatingFunc f) {
  switch (f) {
    case ops::GatingFunc::softmax: return 0;
    case ops::GatingFunc::sigmoid: return 1;
    case ops::GatingFunc::softmax_of_chosen: return 2;
  }
  return 0;
}

}  // namespace

using gguf::GgmlType;

void VulkanBackend::matmul(const ops::Tensor& w, const ops::Tensor& x, int64_t n_tok,
                           const ops::Tensor& y) {
  matmul_at(w, 0, w.n_rows(), x, n_tok, y);
}

void VulkanBackend::matmul_many(const ops::MatmulJob* jobs, int count, const ops::Tensor& x,
                                int64_t n_tok) {
  for (int i = 0; i < count; ++i) matmul(*jobs[i].w, x, n_tok, *jobs[i].y);
}

void VulkanBackend::matmul_id(const ops::Tensor& w, const ops::Tensor& x, bool x_per_slot,
                              const ops::Tensor& ids, int64_t n_tok, int k, const ops::Tensor& y) {
  const ops::MatmulJob job{&w, &y};
  matmul_id_many(&job, 1, x, x_per_slot, ids, n_tok, k);
}

// Two forms of the experts' products: for prompts on a GPU (as matmul_at's tiled form), the
// slots are grouped by expert once (group_by_expert.comp) and each stack is multiplied a tile of
// 64 rows x TT of an expert's slots at a time (matmul_tiled.comp's EXPERTS form: an expert's
// weights read once per TT of its tokens); otherwise, and for decode, one invocation per (row,
// slot) (matmul_id.comp). HEARTH_VULKAN_MATMUL=tiled forces the first, reduce or rows the second.
void VulkanBackend::matmul_id_many(const ops::MatmulJob* jobs, int count, const ops::Tensor& x,
                                   bool x_per_slot, const ops::Tensor& ids, int64_t n_tok, int k) {
  const int64_t n_slots = n_tok * k;
  const bool forced = matmul_form_ != MatmulForm::chosen;
  if (forced ? matmul_form_ == MatmulForm::tiled : !row_per_invocation_ && n_tok >= 16) {
    return matmul_id_tiled(jobs, count, x, x_per_slot, ids, n_tok, k);
  }
  for (int i = 0; i < count; ++i) {
    const ops::Tensor& w = *jobs[i].w;
    const uint32_t g = groups(w.n_rows(), 64);
    // Slots are workgroup rows: at most kMaxGroups a dispatch.
    for (int64_t s0 = 0; s0 < n_slots; s0 += kMaxGroups) {
      const uint32_t pc[] = {u32(w.n_cols()), u32(w.n_rows()), u32(n_slots), u32(w.row_bytes), u32(k),
                             x_per_slot ? 1u : 0u, kMaxGroups, u32(s0)};
      dispatch(std::string("matmul_id_") + weight_suffix(w.type), {buf(w), buf(x), buf(ids), buf(*jobs[i].y)},
               pc, sizeof pc, std::min(g, kMaxGroups), u32(std::min<int64_t>(n_slots - s0, kMaxGroups)),
               groups(g, kMaxGroups));
    }
  }
}

void VulkanBackend::topk_gating(const ops::Tensor& logits, const ops::Tensor& bias, int64_t n_tok,
                                int64_t n_expert, const ops::GatingParams& gp,
                                const ops::Tensor& ids, const ops::Tensor& weights) {
  if (n_expert > kMaxExperts) {
    throw Error(ErrorCode::unsupported, "the Vulkan router takes at most " + std::to_string(kMaxExperts) + " experts");
  }
  if (gp.n_group > 32) throw Error(ErrorCode::unsupported, "the Vulkan router takes at most 32 expert groups");
  struct {
    uint32_t n_tok, n_expert, k, func, normalize, has_bias;
    float scale;
    uint32_t n_group, n_group_used;
  } pc{u32(n_tok), u32(n_expert), u32(gp.k), gating_func(gp.func),
       gp.normalize ? 1u : 0u, bias.empty() ? 0u : 1u, gp.scale, u32(gp.n_group), u32(gp.n_group_used)};
  dispatch("topk_gating", {buf(logits), bias.empty() ? buf(logits) : buf(bias), buf(ids), buf(weights)}, &pc,
           sizeof pc, groups(n_tok, 64), 1, 1);
}

void VulkanBackend::weighted_sum(const ops::Tensor& e, const ops::Tensor& weights, int64_t n_tok,
                                 int k, int64_t n, const ops::Tensor& out) {
  const uint32_t pc[] = {u32(n), u32(k), u32(n_tok)};
  dispatch("weighted_sum", {buf(e), buf(weights), buf(out)}, pc, sizeof pc, groups(n, 64), u32(n_tok), 1);
}

// Three forms of y = x W^T: tiled (matmul_tiled.comp, 64 rows x 16 or 32 tokens a workgroup:
// prompts on a GPU), one row per invocation (software devices, whose invocations are CPU
// threads: short rows), else one row and 8 tokens a workgroup (matmul.comp). HEARTH_VULKAN_MATMUL
// forces one (tests run every form on lavapipe).
void VulkanBackend::matmul_at(const ops::Tensor& w, VkDeviceSize w_off, int64_t n_rows,
                              const ops::Tensor& x, int64_t n_tok, const ops::Tensor& y) {
  const uint32_t pc[] = {u32(w.n_cols()), u32(n_rows), u32(n_tok), u32(w.row_bytes), u32(w_off), kMaxGroups};
  const bool forced = matmul_form_ != MatmulForm::chosen;
  if (forced ? matmul_form_ == MatmulForm::tiled : !row_per_invocation_ && n_tok >= 16) {
    static const std::vector<uint32_t> k16{16}, k32{32};
    const uint32_t tt = n_tok >= 32 ? 32 : 16;
    const uint32_t tiles = groups(n_rows, 64);
    dispatch(std::string("matmul_tiled_") + weight_suffix(w.type), {buf(w), buf(x), buf(y)}, pc, sizeof pc,
             std::min(tiles, kMaxGroups), groups(n_tok, tt), groups(tiles, kMaxGroups), tt == 32 ? k32 : k16);
    return;
  }
  if (forced ? matmul_form_ == MatmulForm::rows : row_per_invocation_ && w.n_cols() <= 2048) {
    const uint32_t g = groups(n_rows, 64);
    dispatch(std::string("matmul_rows_") + weight_suffix(w.type), {buf(w), buf(x), buf(y)}, pc, sizeof pc,
             std::min(g, kMaxGroups), groups(n_tok, 8), groups(g, kMaxGroups));
    return;
  }
  dispatch(std::string("matmul_") + weight_suffix(w.type), {buf(w), buf(x), buf(y)}, pc, sizeof pc,
           std::min<uint32_t>(u32(n_rows), kMaxGroups), groups(n_tok, 8), groups(n_rows, kMaxGroups));
}

// The experts' products as tiles (matmul_id_many's first form). Every stack of the call shares
// the experts and the grouping: group_by_expert.comp lists each expert's slots, then
// list_expert_tiles.comp the work items, one per (expert, tile of TT of its slots) that holds any
// slot, and the VkDispatchIndirectCommand (row tiles x items x 1) that launches the products. So
// a workgroup runs only where there is work: none for the experts no token chose (most of
// DeepSeek-V3's 256 in a short prompt) nor for the tiles past an expert's count, which a launch
// sized on the host (every expert x ceil(n_tok / TT)) would start and end at once.
void VulkanBackend::matmul_id_tiled(const ops::MatmulJob* jobs, int count, const ops::Tensor& x,
                                    bool x_per_slot, const ops::Tensor& ids, int64_t n_tok, int k) {
  const int64_t n_slots = n_tok * k, n_expert = jobs[0].w->n_mats();
  if (n_slots == 0) return;
  if (n_expert > kMaxGroups) {
    throw Error(ErrorCode::unsupported, "the Vulkan expert product takes at most " + std::to_string(kMaxGroups) +
                                            " experts, not " + std::to_string(n_expert));
  }
  // Row tiles in x: the call's widest stack (a narrower one's extra row tiles exit at once).
  const VkPhysicalDeviceLimits& limits = dev_->limits();
  uint32_t row_tiles = 0;
  for (int i = 0; i < count; ++i) {
    HEARTH_CHECK(jobs[i].w->n_mats() == n_expert);
    row_tiles = std::max(row_tiles, groups(jobs[i].w->n_rows(), 64));
  }
  if (row_tiles > std::min(kMaxGroups, limits.maxComputeWorkGroupCount[0])) {
    throw Error(ErrorCode::unsupported, "the Vulkan expert product takes experts of at most " +
                                            std::to_string(64 * int64_t{kMaxGroups}) + " rows");
  }
  // Work items in y, at most the device's limit (Vulkan guarantees 65,535; the products loop over
  // further items).
  uint32_t max_items = std::min(kMaxGroups, limits.maxComputeWorkGroupCount[1]);
  if (expert_work_group_cap_ > 0) max_items = std::min(max_items, expert_work_group_cap_);
  // The grouping's words (list_expert_tiles.comp), then the command and the item count, then two
  // words an item: each expert has at most one partial tile beside its full ones, so tiles of 16
  // or 32 slots make at most ceil(n_slots / 16) + n_expert items.
  const int64_t tail = 2 * n_expert + n_slots;
  const int64_t group_words = tail + 4 + 2 * (groups(n_slots, 16) + n_expert);
  if (slot_groups_.empty() || slot_groups_.n_elements() < group_words) {
    release(slot_groups_);
    slot_groups_ = alloc(GgmlType::I32, group_words, 1);
  }
  // 32 tokens a tile when an expert gets more than 16 on average, else 16 (an emptier tile
  // costs arithmetic; a second tile reads the expert's weights again).
  static const std::vector<uint32_t> k16{16}, k32{32};
  const uint32_t tt = n_slots > 16 * n_expert ? 32 : 16;
  expert_tile_tokens_ = tt;
  const uint32_t gp[] = {u32(n_slots), u32(n_expert)};
  dispatch("group_by_expert", {buf(ids), buf(slot_groups_)}, gp, sizeof gp, u32(n_expert), 1, 1);
  const uint32_t lp[] = {u32(n_slots), u32(n_expert), tt, row_tiles, max_items};
  dispatch("list_expert_tiles", {buf(slot_groups_)}, lp, sizeof lp, 1, 1, 1);
  indirect_barrier();
  for (int i = 0; i < count; ++i) {
    const ops::Tensor& w = *jobs[i].w;
    const uint32_t pc[] = {u32(w.n_cols()), u32(w.n_rows()), u32(n_slots), u32(w.row_bytes), u32(k),
                           x_per_slot ? 1u : 0u, u32(n_expert)};
    dispatch_indirect(std::string("matmul_id_tiled_") + weight_suffix(w.type),
                      {buf(w), buf(x), buf(slot_groups_), buf(*jobs[i].y)}, pc, sizeof pc, buf(slot_groups_),
                      static_cast<VkDeviceSize>(tail) * 4, tt == 32 ? k32 : k16);
  }
}

testing::ExpertGrouping VulkanBackend::expert_grouping() {
  testing::ExpertGrouping g;
  g.tile_tokens = expert_tile_tokens_;
  if (slot_groups_.empty()) return g;
  g.words.resize(static_cast<size_t>(slot_groups_.n_elements()));
  read(slot_groups_, slot_groups_.n_elements(), reinterpret_cast<float*>(g.words.data()));
  return g;
}

namespace testing {

namespace {
VulkanBackend& vulkan_backend(ops::Backend& backend) {
  auto* vb = dynamic_cast<VulkanBackend*>(&backend);
  if (vb == nullptr) throw Error(ErrorCode::invalid_argument, backend.name() + " is not a Vulkan backend");
  return *vb;
}
}  // namespace

ExpertGrouping last_expert_grouping(ops::Backend& backend) { return vulkan_backend(backend).expert_grouping(); }

void cap_expert_work_groups(ops::Backend& backend, uint32_t cap) { vulkan_backend(backend).cap_expert_work_groups(cap); }

}  // namespace testing

}  // namespace hearth::vulkan
