// VulkanBackend: each tensor is a VkBuffer in device-local memory (host-visible where that is all
// the device has); operations are recorded into one command buffer, each followed by a memory
// barrier, and submitted when the host needs a result (read), a host write must land (write), or
// the parameter ring is full. Small host arrays an operation needs (token ids, positions,
// sequence ids, RoPE cos/sin) go into a host-visible ring bound as a storage buffer.

#include "vulkan/vk_backend.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "ops/kv_quant.h"
#include "quant/type_traits.h"
#include "util/check.h"
#include "util/env.h"
#include "util/error.h"
#include "vulkan/vk_device.h"

namespace hearth::vulkan {

namespace {

using gguf::GgmlType;

constexpr VkDeviceSize kStagingBytes = VkDeviceSize{32} << 20;
constexpr VkDeviceSize kRingBytes = VkDeviceSize{4} << 20;
constexpr uint32_t kMaxGroups = 65535;  // per dispatch dimension: Vulkan's guaranteed minimum
constexpr int64_t kSplitKeys = 512;     // keys per workgroup of a split decode attention
constexpr uint32_t kNoSinks = 0xffffffffu;  // attention's sinks_off when the shape has none
// Device memory comes in chunks of this size (a larger tensor gets a chunk of its own): a model
// is then a few allocations, not one per tensor (drivers limit their count, e.g. 4,096).
constexpr VkDeviceSize kChunkBytes = VkDeviceSize{64} << 20;

const char* weight_suffix(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "f32";
    case GgmlType::F16: return "f16";
    case GgmlType::BF16: return "bf16";
    case GgmlType::Q4_0: return "q4_0";
    case GgmlType::Q4_1: return "q4_1";
    case GgmlType::Q5_0: return "q5_0";
    case GgmlType::Q5_1: return "q5_1";
    case GgmlType::Q8_0: return "q8_0";
    case GgmlType::Q2_K: return "q2_k";
    case GgmlType::Q3_K: return "q3_k";
    case GgmlType::Q4_K: return "q4_k";
    case GgmlType::Q5_K: return "q5_k";
    case GgmlType::Q6_K: return "q6_k";
    case GgmlType::MXFP4: return "mxfp4";
    default: return nullptr;
  }
}

// topk_gating.comp's `func`.
uint32_t gating_func(ops::GatingFunc f) {
  switch (f) {
    case ops::GatingFunc::softmax: return 0;
    case ops::GatingFunc::sigmoid: return 1;
    case ops::GatingFunc::softmax_of_chosen: return 2;
  }
  return 0;
}

uint32_t groups(uint64_t n, uint64_t per) { return static_cast<uint32_t>((n + per - 1) / per); }

// One large device allocation with a buffer over all of it; tensors are ranges of it.
struct Chunk {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  std::map<VkDeviceSize, VkDeviceSize> free;  // offset -> bytes, coalesced
};

struct VkTensor {
  const void* owner = nullptr;
  Chunk* chunk = nullptr;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;     // as asked
  VkDeviceSize taken = 0;    // as carved from the chunk (aligned)
};

// A storage-buffer binding: the range of a buffer a shader sees as its array.
struct Binding {
  VkBuffer buffer;
  VkDeviceSize offset, range;
};

struct HostBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  VkDeviceSize size = 0;
  uint8_t* mapped = nullptr;
};

class VulkanBackend final : public ops::Backend {
 public:
  explicit VulkanBackend(std::shared_ptr<Device> dev)
      : dev_(std::move(dev)), row_per_invocation_(dev_->info().type == "cpu"),
        matmul_form_(matmul_form_from_env()) {
    VkDevice d = dev_->vk();
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = dev_->queue_family();
    check(vkCreateCommandPool(d, &pci, nullptr, &pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(d, &ai, &cmd_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(vkCreateFence(d, &fci, nullptr, &fence_), "vkCreateFence");
    staging_ = host_buffer(kStagingBytes);
    ring_ = host_buffer(kRingBytes);
  }

  ~VulkanBackend() override {
    VkDevice d = dev_->vk();
    try {
      flush();
    } catch (const Error&) {  // a lost device: free what we can
    }
    records_.clear();
    for (auto& c : chunks_) {
      vkDestroyBuffer(d, c->buffer, nullptr);
      vkFreeMemory(d, c->memory, nullptr);
    }
    free_host(staging_);
    free_host(ring_);
    vkDestroyFence(d, fence_, nullptr);
    vkDestroyCommandPool(d, pool_, nullptr);
  }

  std::string name() const override { return "vulkan:" + std::to_string(dev_->info().index); }
  std::string description() const override { return "Vulkan (" + dev_->info().name + ")"; }

  Upload upload_weight(GgmlType type, const int64_t ne[3], int64_t row_bytes, const uint8_t* data,
                       WeightUse) override {
    if (weight_suffix(type) == nullptr) {
      throw Error(ErrorCode::unsupported, "the Vulkan backend cannot compute with " +
                                              std::string(gguf::type_name(type)) + " weights yet");
    }
    const VkDeviceSize bytes = static_cast<VkDeviceSize>(row_bytes * ne[1] * ne[2]);
    Upload up;
    up.tensor = make(type, ne[0], ne[1] * ne[2], row_bytes, bytes);
    up.tensor.ne[1] = ne[1];
    up.tensor.ne[2] = ne[2];
    copy_in(up.tensor, data, bytes);
    up.copied = true;
    return up;
  }

  ops::Tensor upload_f32(const float* values, int64_t n_cols, int64_t n_rows) override {
    ops::Tensor t = alloc(GgmlType::F32, n_cols, n_rows);
    write(t, n_cols * n_rows, values);
    return t;
  }

  ops::Tensor alloc(GgmlType type, int64_t n_cols, int64_t n_rows) override {
    const bool quantized = type == GgmlType::Q8_0 || type == GgmlType::Q4_0;  // KV caches only
    HEARTH_CHECK(quantized || type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::I32);
    HEARTH_CHECK(n_cols > 0 && n_rows > 0);
    if (quantized && n_cols % 32 != 0) {
      throw Error(ErrorCode::invalid_argument, std::string("a ") + gguf::type_name(type) +
                                                   " cache needs rows of whole 32-element blocks, not " +
                                                   std::to_string(n_cols));
    }
    const int64_t row_bytes = type == GgmlType::I32 ? n_cols * 4 : ops::kv_row_bytes(type, n_cols);
    // Rounded up to whole floats: read() copies floats (the bytes of a quantized cache, in tests).
    const VkDeviceSize bytes = (static_cast<VkDeviceSize>(row_bytes * n_rows) + 3) / 4 * 4;
    return make(type, n_cols, n_rows, row_bytes, bytes);
  }

  void release(ops::Tensor& t) override {
    if (t.empty()) return;
    auto it = records_.find(rec(t));
    HEARTH_CHECK(it != records_.end());
    flush();  // nothing queued may still use it
    bytes_ -= it->second->size;
    give_back(*it->second);
    records_.erase(it);
    t = ops::Tensor{};
  }

  uint64_t bytes() const override { return bytes_; }

  void read(const ops::Tensor& t, int64_t n, float* dst) override {
    VkTensor* r = rec(t);
    auto* out = reinterpret_cast<uint8_t*>(dst);
    const VkDeviceSize total = static_cast<VkDeviceSize>(n) * sizeof(float);
    for (VkDeviceSize at = 0; at < total; at += staging_.size) {
      const VkDeviceSize len = std::min(staging_.size, total - at);
      begin();
      barrier();
      VkBufferCopy c{r->offset + at, 0, len};
      vkCmdCopyBuffer(cmd_, r->chunk->buffer, staging_.buffer, 1, &c);
      flush();
      std::memcpy(out + at, staging_.mapped, len);
    }
  }

  void write(const ops::Tensor& t, int64_t n, const float* src) override {
    copy_in(t, src, static_cast<VkDeviceSize>(n) * sizeof(float));
  }

  void matmul(const ops::Tensor& w, const ops::Tensor& x, int64_t n_tok, const ops::Tensor& y) override {
    matmul_at(w, 0, w.n_rows(), x, n_tok, y);
  }

  void matmul_many(const ops::MatmulJob* jobs, int count, const ops::Tensor& x, int64_t n_tok) override {
    for (int i = 0; i < count; ++i) matmul(*jobs[i].w, x, n_tok, *jobs[i].y);
  }

  void matmul_id(const ops::Tensor& w, const ops::Tensor& x, bool x_per_slot, const ops::Tensor& ids,
                 int64_t n_tok, int k, const ops::Tensor& y) override {
    const ops::MatmulJob job{&w, &y};
    matmul_id_many(&job, 1, x, x_per_slot, ids, n_tok, k);
  }

  // Two forms of the experts' products: for prompts on a GPU (as matmul_at's tiled form), the
  // slots are grouped by expert once (group_by_expert.comp) and each stack is multiplied a tile of
  // 64 rows x TT of an expert's slots at a time (matmul_tiled.comp's EXPERTS form: an expert's
  // weights read once per TT of its tokens); otherwise, and for decode, one invocation per (row,
  // slot) (matmul_id.comp). HEARTH_VULKAN_MATMUL=tiled forces the first, reduce or rows the second.
  void matmul_id_many(const ops::MatmulJob* jobs, int count, const ops::Tensor& x, bool x_per_slot,
                      const ops::Tensor& ids, int64_t n_tok, int k) override {
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

  void topk_gating(const ops::Tensor& logits, const ops::Tensor& bias, int64_t n_tok, int64_t n_expert,
                   const ops::GatingParams& gp, const ops::Tensor& ids, const ops::Tensor& weights) override {
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
  void weighted_sum(const ops::Tensor& e, const ops::Tensor& weights, int64_t n_tok, int k, int64_t n,
                    const ops::Tensor& out) override {
    const uint32_t pc[] = {u32(n), u32(k), u32(n_tok)};
    dispatch("weighted_sum", {buf(e), buf(weights), buf(out)}, pc, sizeof pc, groups(n, 64), u32(n_tok), 1);
  }

  void get_rows(const ops::Tensor& table, const int32_t* ids, int64_t n, const ops::Tensor& out) override {
    const uint32_t ids_off = ring_put(ids, static_cast<size_t>(n) * sizeof(int32_t));
    const uint32_t pc[] = {u32(table.n_cols()), u32(table.row_bytes), u32(n), ids_off};
    dispatch(std::string("get_rows_") + weight_suffix(table.type), {buf(table), ring(), buf(out)}, pc,
             sizeof pc, groups(groups(table.n_cols(), 32), 64), u32(n), 1);
  }

  void rmsnorm(const ops::Tensor& x, const ops::Tensor& w, int64_t n_rows, int64_t n, float eps,
               const ops::Tensor& out) override {
    struct {
      uint32_t n_rows, n, has_w, per_z;
      float eps;
    } pc{u32(n_rows), u32(n), w.empty() ? 0u : 1u, kMaxGroups, eps};
    dispatch("rmsnorm", {buf(x), w.empty() ? buf(x) : buf(w), buf(out)}, &pc, sizeof pc,
             std::min<uint32_t>(u32(n_rows), kMaxGroups), 1, groups(n_rows, kMaxGroups));
  }

  // BERT-style encoders' norm (shaders/layernorm.comp); an absent weight or bias binds x in its
  // place, unread.
  void layernorm(const ops::Tensor& x, const ops::Tensor& w, const ops::Tensor& b, int64_t n_rows, int64_t n,
                 float eps, const ops::Tensor& out) override {
    struct {
      uint32_t n_rows, n, has_w, has_b, per_z;
      float eps;
    } pc{u32(n_rows), u32(n), w.empty() ? 0u : 1u, b.empty() ? 0u : 1u, kMaxGroups, eps};
    dispatch("layernorm", {buf(x), w.empty() ? buf(x) : buf(w), b.empty() ? buf(x) : buf(b), buf(out)}, &pc,
             sizeof pc, std::min<uint32_t>(u32(n_rows), kMaxGroups), 1, groups(n_rows, kMaxGroups));
  }

  void rope(const ops::Tensor& x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
            const ops::RopeParams& p) override {
    if (p.n_dims < 2 || n_tok == 0) return;
    cs_.resize(static_cast<size_t>(n_tok * p.n_dims));
    for (int64_t t = 0; t < n_tok; ++t) ops::rope_angles(p, pos[t], cs_.data() + t * p.n_dims);
    const uint32_t cs_off = ring_put(cs_.data(), cs_.size() * sizeof(float));
    const uint32_t pc[] = {u32(n_tok), u32(n_heads), u32(head_dim), u32(p.n_dims),
                           p.mode == ops::RopeMode::neox ? 1u : 0u, cs_off};
    dispatch("rope", {buf(x), ring()}, pc, sizeof pc, groups(p.n_dims / 2, 64), u32(n_heads), u32(n_tok));
  }

  void store_kv(const ops::KvView& cache, const ops::Tensor& k, const ops::Tensor& v,
                const ops::SeqRows& rows) override {
    const uint32_t rows_off = put_rows(rows);
    for (const auto& [dst, src] : {std::pair{&cache.k, &k}, std::pair{&cache.v, &v}}) {
      if (dst->empty()) continue;
      const uint32_t pc[] = {u32(dst->n_cols()), u32(cache.rows_per_seq()), u32(rows.n), rows_off,
                             u32(cache.ring)};
      // Quantized caches: one invocation per 32-element block.
      const bool quantized = dst->type == GgmlType::Q8_0 || dst->type == GgmlType::Q4_0;
      dispatch(std::string("store_kv_") + weight_suffix(dst->type), {buf(*src), ring(), buf(*dst)}, pc,
               sizeof pc, groups(quantized ? dst->n_cols() / 32 : dst->n_cols(), 64), u32(rows.n), 1);
    }
  }

  void attention(const ops::AttentionShape& s, const ops::Tensor& q, const ops::KvView& cache,
                 const ops::SeqRows& rows, const ops::Tensor& out) override {
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

  void copy_cols(const ops::Tensor& src, int64_t src_width, int64_t src_col, const ops::Tensor& dst,
                 int64_t dst_width, int64_t dst_col, int64_t width, int64_t n_rows) override {
    HEARTH_CHECK(src_col + width <= src_width && dst_col + width <= dst_width &&
                 n_rows * src_width <= src.n_elements() && n_rows * dst_width <= dst.n_elements());
    if (n_rows <= 0 || width <= 0) return;
    begin();
    barrier();
    const Binding s = buf(src), d = buf(dst);
    copies_.resize(static_cast<size_t>(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) {
      copies_[static_cast<size_t>(r)] = {s.offset + static_cast<VkDeviceSize>((r * src_width + src_col) * 4),
                                         d.offset + static_cast<VkDeviceSize>((r * dst_width + dst_col) * 4),
                                         static_cast<VkDeviceSize>(width * 4)};
    }
    vkCmdCopyBuffer(cmd_, s.buffer, d.buffer, static_cast<uint32_t>(n_rows), copies_.data());
    barrier();
  }

  void copy_rows(const ops::Tensor& t, int64_t src, int64_t dst, int64_t n) override {
    if (n <= 0) return;
    begin();
    barrier();
    const VkDeviceSize rb = static_cast<VkDeviceSize>(t.row_bytes);
    const Binding b = buf(t);
    VkBufferCopy c{b.offset + src * rb, b.offset + dst * rb, n * rb};
    vkCmdCopyBuffer(cmd_, b.buffer, b.buffer, 1, &c);
    barrier();
  }

  void swiglu(const ops::Tensor& g, const ops::Tensor& u, int64_t n, const ops::Tensor& out) override {
    eltwise(3, g, u, out, n, 0, 0.0f);
  }
  void geglu(const ops::Tensor& g, const ops::Tensor& u, int64_t n, const ops::Tensor& out) override {
    eltwise(4, g, u, out, n, 0, 0.0f);
  }
  void gelu(const ops::Tensor& x, int64_t n, const ops::Tensor& out) override { eltwise(5, x, x, out, n, 0, 0.0f); }
  void add(const ops::Tensor& y, const ops::Tensor& x, int64_t n) override { eltwise(0, y, x, y, n, 0, 0.0f); }
  // gpt-oss's FFN: its clamped SwiGLU and each chosen expert's bias row (ids bound as the third
  // buffer).
  void swiglu_oai(const ops::Tensor& g, const ops::Tensor& u, int64_t n, float alpha, float limit,
                  const ops::Tensor& out) override {
    eltwise(7, g, u, out, n, 0, alpha, limit);
  }
  void add_bias_id(const ops::Tensor& y, const ops::Tensor& b, const ops::Tensor& ids, int64_t n_tok, int k,
                   int64_t n) override {
    eltwise(8, y, b, ids, n_tok * k * n, n, 0.0f);
  }
  void add_bias(const ops::Tensor& x, const ops::Tensor& b, int64_t n_rows, int64_t n) override {
    eltwise(1, x, b, x, n_rows * n, n, 0.0f);
  }
  void scale(const ops::Tensor& x, float s, int64_t n) override { eltwise(2, x, x, x, n, 0, s); }
  void softcap(const ops::Tensor& x, float cap, int64_t n) override { eltwise(6, x, x, x, n, 0, cap); }
  // Sampling's candidates (shaders/top_logits.comp): one workgroup a row.
  void top_logits(const ops::Tensor& logits, int64_t n_rows, int64_t n, int k, const ops::Tensor& out) override {
    HEARTH_CHECK(k >= 1 && k <= ops::kMaxTopLogits && n >= 1);
    HEARTH_CHECK(n_rows * n <= logits.n_elements() && n_rows * ops::top_logits_width(k) <= out.n_elements());
    const uint32_t pc[] = {u32(n_rows), u32(n), u32(k), kMaxGroups};
    dispatch("top_logits", {buf(logits), buf(out)}, pc, sizeof pc, std::min<uint32_t>(u32(n_rows), kMaxGroups), 1,
             groups(n_rows, kMaxGroups));
  }

 private:
  static uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

  VkTensor* rec(const ops::Tensor& t) const {
    auto* r = static_cast<VkTensor*>(t.handle);
    HEARTH_CHECK(r != nullptr && r->owner == this);  // a tensor of another backend is a bug
    return r;
  }
  Binding buf(const ops::Tensor& t) const {
    const VkTensor* r = rec(t);
    return {r->chunk->buffer, r->offset, r->taken};
  }
  Binding ring() const { return {ring_.buffer, 0, VK_WHOLE_SIZE}; }

  // First fit in the chunks (then a new chunk), offsets aligned for storage-buffer bindings.
  void carve(VkTensor& t) {
    const VkDeviceSize align = std::max<VkDeviceSize>(dev_->limits().minStorageBufferOffsetAlignment, 64);
    t.taken = (std::max<VkDeviceSize>(t.size, 4) + align - 1) / align * align;
    for (auto& c : chunks_) {
      for (auto it = c->free.begin(); it != c->free.end(); ++it) {
        if (it->second < t.taken) continue;
        t.chunk = c.get();
        t.offset = it->first;
        const VkDeviceSize rest = it->second - t.taken, at = it->first + t.taken;
        c->free.erase(it);
        if (rest > 0) c->free.emplace(at, rest);
        return;
      }
    }
    auto c = std::make_unique<Chunk>();
    c->size = std::max(kChunkBytes, t.taken);
    alloc_buffer(c->size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                 VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, &c->buffer, &c->memory);
    if (c->size > t.taken) c->free.emplace(t.taken, c->size - t.taken);
    t.chunk = c.get();
    t.offset = 0;
    chunks_.push_back(std::move(c));
  }

  // Returns a tensor's range to its chunk, merged with free neighbours.
  void give_back(const VkTensor& t) {
    auto& free = t.chunk->free;
    auto it = free.emplace(t.offset, t.taken).first;
    auto next = std::next(it);
    if (next != free.end() && it->first + it->second == next->first) {
      it->second += next->second;
      free.erase(next);
    }
    if (it != free.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        free.erase(it);
      }
    }
  }

  void alloc_buffer(VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags want,
                    VkMemoryPropertyFlags fallback, VkBuffer* b, VkDeviceMemory* m) {
    VkDevice d = dev_->vk();
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = std::max<VkDeviceSize>(size, 4);
    bci.usage = usage;
    check(vkCreateBuffer(d, &bci, nullptr, b), "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d, *b, &req);
    int type = dev_->memory_type(req.memoryTypeBits, want);
    if (type < 0) type = dev_->memory_type(req.memoryTypeBits, fallback);
    VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    mai.allocationSize = req.size;
    mai.memoryTypeIndex = static_cast<uint32_t>(std::max(type, 0));
    const VkResult r = type < 0 ? VK_ERROR_OUT_OF_DEVICE_MEMORY : vkAllocateMemory(d, &mai, nullptr, m);
    if (r != VK_SUCCESS) {
      vkDestroyBuffer(d, *b, nullptr);
      *b = VK_NULL_HANDLE;
      throw Error(ErrorCode::resource_exhausted, "cannot allocate " + std::to_string(size >> 20) +
                                                     " MiB on " + dev_->info().name);
    }
    check(vkBindBufferMemory(d, *b, *m, 0), "vkBindBufferMemory");
  }

  HostBuffer host_buffer(VkDeviceSize size) {
    HostBuffer h;
    h.size = size;
    alloc_buffer(size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, &h.buffer, &h.memory);
    void* p = nullptr;
    check(vkMapMemory(dev_->vk(), h.memory, 0, size, 0, &p), "vkMapMemory");
    h.mapped = static_cast<uint8_t*>(p);
    return h;
  }
  void free_host(HostBuffer& h) {
    if (h.buffer == VK_NULL_HANDLE) return;
    vkDestroyBuffer(dev_->vk(), h.buffer, nullptr);
    vkFreeMemory(dev_->vk(), h.memory, nullptr);
    h = HostBuffer{};
  }

  ops::Tensor make(GgmlType type, int64_t n_cols, int64_t n_rows, int64_t row_bytes, VkDeviceSize bytes) {
    if (bytes > dev_->limits().maxStorageBufferRange) {
      throw Error(ErrorCode::resource_exhausted,
                  "a tensor of " + std::to_string(bytes >> 20) + " MiB exceeds the " +
                      std::to_string(dev_->limits().maxStorageBufferRange >> 20) +
                      " MiB a storage buffer of " + dev_->info().name + " may cover");
    }
    auto r = std::make_unique<VkTensor>();
    r->owner = this;
    r->size = bytes;
    carve(*r);
    ops::Tensor t;
    t.type = type;
    t.ne[0] = n_cols;
    t.ne[1] = n_rows;
    t.ne[2] = 1;
    t.row_bytes = row_bytes;
    t.handle = r.get();
    bytes_ += bytes;
    records_.emplace(r.get(), std::move(r));
    return t;
  }

  void copy_in(const ops::Tensor& t, const void* src, VkDeviceSize total) {
    flush();  // earlier recorded work may still read the tensor
    VkTensor* r = rec(t);
    const auto* in = static_cast<const uint8_t*>(src);
    for (VkDeviceSize at = 0; at < total; at += staging_.size) {
      const VkDeviceSize len = std::min(staging_.size, total - at);
      std::memcpy(staging_.mapped, in + at, len);
      begin();
      VkBufferCopy c{0, r->offset + at, len};
      vkCmdCopyBuffer(cmd_, staging_.buffer, r->chunk->buffer, 1, &c);
      flush();
    }
  }

  void begin() {
    if (recording_) return;
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
    recording_ = true;
  }

  // Submits what was recorded and waits for it; the parameter ring is free again after.
  void flush() {
    if (!recording_) return;
    recording_ = false;
    ring_used_ = 0;
    check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd_;
    {
      std::lock_guard<std::mutex> lock(dev_->queue_mutex());
      check(vkQueueSubmit(dev_->queue(), 1, &si, fence_), "vkQueueSubmit");
    }
    const VkResult w = vkWaitForFences(dev_->vk(), 1, &fence_, VK_TRUE, UINT64_MAX);
    vkResetFences(dev_->vk(), 1, &fence_);
    vkResetCommandBuffer(cmd_, 0);
    check(w, "vkWaitForFences (the device may be lost)");
  }

  void barrier() {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cmd_, st, st, 0, 1, &mb, 0, nullptr, 0, nullptr);
  }

  // Copies host parameters into the ring; returns their offset in 4-byte words.
  uint32_t ring_put(const void* data, size_t bytes) {
    const VkDeviceSize need = (bytes + 15) / 16 * 16;
    if (ring_used_ + need > ring_.size) {
      flush();
      if (need > ring_.size) {
        free_host(ring_);
        ring_ = host_buffer(std::max(need, ring_.size * 2));
      }
    }
    std::memcpy(ring_.mapped + ring_used_, data, bytes);
    const uint32_t off = static_cast<uint32_t>(ring_used_ / 4);
    ring_used_ += need;
    return off;
  }

  // pos[n], seq[n], then n_tail floats' bits (attention's sinks) into the ring; their offset.
  uint32_t put_rows(const ops::SeqRows& rows, const float* tail = nullptr, int64_t n_tail = 0) {
    rows_.resize(static_cast<size_t>(2 * rows.n + n_tail));
    std::copy(rows.pos, rows.pos + rows.n, rows_.begin());
    std::copy(rows.seq, rows.seq + rows.n, rows_.begin() + rows.n);
    if (n_tail > 0) std::memcpy(rows_.data() + 2 * rows.n, tail, static_cast<size_t>(n_tail) * sizeof(float));
    return ring_put(rows_.data(), rows_.size() * sizeof(int32_t));
  }

  void dispatch(const std::string& shader, std::initializer_list<Binding> bufs, const void* push,
                size_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz, const std::vector<uint32_t>& spec = {}) {
    if (gx == 0 || gy == 0 || gz == 0) return;
    const Pipeline& p = dev_->pipeline(shader, static_cast<int>(bufs.size()), spec);
    begin();
    // Every dispatch of a pass comes through here: fixed arrays, no allocation.
    constexpr size_t kMaxBindings = 8;
    HEARTH_CHECK(bufs.size() <= kMaxBindings);
    std::array<VkDescriptorBufferInfo, kMaxBindings> infos{};
    std::array<VkWriteDescriptorSet, kMaxBindings> writes{};
    size_t n = 0;
    for (const Binding& b : bufs) infos[n++] = {b.buffer, b.offset, b.range};
    for (size_t i = 0; i < n; ++i) {
      writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      writes[i].dstBinding = static_cast<uint32_t>(i);
      writes[i].descriptorCount = 1;
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
    dev_->push_descriptor_set()(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0,
                                static_cast<uint32_t>(n), writes.data());
    vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, static_cast<uint32_t>(push_bytes), push);
    vkCmdDispatch(cmd_, gx, gy, gz);
    barrier();
  }

  // Three forms of y = x W^T: tiled (matmul_tiled.comp, 64 rows x 16 or 32 tokens a workgroup:
  // prompts on a GPU), one row per invocation (software devices, whose invocations are CPU
  // threads: short rows), else one row and 8 tokens a workgroup (matmul.comp). HEARTH_VULKAN_MATMUL
  // forces one (tests run every form on lavapipe).
  void matmul_at(const ops::Tensor& w, VkDeviceSize w_off, int64_t n_rows, const ops::Tensor& x, int64_t n_tok,
                 const ops::Tensor& y) {
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
  // the experts and the grouping. Workgroups: row tiles x token tiles x experts; a token chooses
  // an expert once, so no expert has more than n_tok slots and ceil(n_tok / TT) token tiles cover
  // it (the shader loops over further tiles should ids repeat an expert within a token).
  void matmul_id_tiled(const ops::MatmulJob* jobs, int count, const ops::Tensor& x, bool x_per_slot,
                       const ops::Tensor& ids, int64_t n_tok, int k) {
    const int64_t n_slots = n_tok * k, n_expert = jobs[0].w->n_mats();
    if (n_slots == 0) return;
    if (n_expert > kMaxGroups) {
      throw Error(ErrorCode::unsupported, "the Vulkan expert product takes at most " + std::to_string(kMaxGroups) +
                                              " experts, not " + std::to_string(n_expert));
    }
    const int64_t group_words = 2 * n_expert + n_slots;
    if (slot_groups_.empty() || slot_groups_.n_elements() < group_words) {
      release(slot_groups_);
      slot_groups_ = alloc(GgmlType::I32, group_words, 1);
    }
    const uint32_t gp[] = {u32(n_slots), u32(n_expert)};
    dispatch("group_by_expert", {buf(ids), buf(slot_groups_)}, gp, sizeof gp, u32(n_expert), 1, 1);
    // 32 tokens a tile when an expert gets more than 16 on average, else 16 (an emptier tile
    // costs arithmetic; a second tile reads the expert's weights again).
    static const std::vector<uint32_t> k16{16}, k32{32};
    const uint32_t tt = n_slots > 16 * n_expert ? 32 : 16;
    for (int i = 0; i < count; ++i) {
      const ops::Tensor& w = *jobs[i].w;
      HEARTH_CHECK(w.n_mats() == n_expert);
      const uint32_t row_tiles = groups(w.n_rows(), 64);
      if (row_tiles > kMaxGroups) {
        throw Error(ErrorCode::unsupported, "the Vulkan expert product takes experts of at most " +
                                                std::to_string(64 * int64_t{kMaxGroups}) + " rows");
      }
      const uint32_t pc[] = {u32(w.n_cols()), u32(w.n_rows()), u32(n_slots), u32(w.row_bytes), u32(k),
                             x_per_slot ? 1u : 0u, u32(n_expert)};
      dispatch(std::string("matmul_id_tiled_") + weight_suffix(w.type),
               {buf(w), buf(x), buf(slot_groups_), buf(*jobs[i].y)}, pc, sizeof pc, row_tiles,
               std::min(groups(n_tok, tt), kMaxGroups), u32(n_expert), tt == 32 ? k32 : k16);
    }
  }

  void eltwise(int op, const ops::Tensor& a, const ops::Tensor& b, const ops::Tensor& c, int64_t n, int64_t n_cols,
               float f, float f2 = 0.0f) {
    const uint32_t g = groups(n, 256);
    const uint32_t gx = std::min(g, kMaxGroups);
    struct {
      uint32_t n, n_cols, per_z;
      float f, f2;
    } pc{u32(n), u32(n_cols), gx * 256, f, f2};
    dispatch("eltwise_" + std::to_string(op), {buf(a), buf(b), buf(c)}, &pc, sizeof pc, gx, groups(g, gx), 1);
  }

  std::shared_ptr<Device> dev_;
  // A software device (lavapipe) runs one invocation per row far faster than a workgroup
  // reduction per row (its barriers are expensive); a GPU wants the reduction (coalesced reads).
  bool row_per_invocation_;
  enum class MatmulForm { chosen, tiled, reduce, rows };
  // HEARTH_VULKAN_MATMUL, read once: unset = chosen per pass.
  static MatmulForm matmul_form_from_env() {
    const std::string v = env_value("HEARTH_VULKAN_MATMUL");
    if (v.empty()) return MatmulForm::chosen;
    if (v == "tiled") return MatmulForm::tiled;
    if (v == "reduce") return MatmulForm::reduce;
    if (v == "rows") return MatmulForm::rows;
    throw Error(ErrorCode::invalid_argument, "HEARTH_VULKAN_MATMUL=" + v + ": expected tiled, reduce or rows");
  }
  MatmulForm matmul_form_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  bool recording_ = false;
  HostBuffer staging_, ring_;
  VkDeviceSize ring_used_ = 0;
  uint64_t bytes_ = 0;
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::unordered_map<VkTensor*, std::unique_ptr<VkTensor>> records_;
  std::vector<float> cs_;
  std::vector<int32_t> rows_;
  ops::Tensor parts_;  // split attention's partial states
  ops::Tensor slot_groups_;  // group_by_expert's output for the tiled expert products
  std::vector<VkBufferCopy> copies_;  // copy_cols regions, one per row
};

}  // namespace

std::unique_ptr<ops::Backend> make_backend(int index) {
  return std::make_unique<VulkanBackend>(Device::open(index));
}

bool weight_type_supported(gguf::GgmlType type) { return weight_suffix(type) != nullptr; }

int default_device() {
  const std::string named = env_value("HEARTH_VULKAN_DEVICE");
  const std::vector<DeviceInfo> devices = list_devices();
  if (!named.empty()) {
    try {
      return std::stoi(named);
    } catch (const std::exception&) {
      throw Error(ErrorCode::invalid_argument, "HEARTH_VULKAN_DEVICE=" + named + " is not a device index");
    }
  }
  for (const DeviceInfo& d : devices) {
    if (d.usable && (d.type == "discrete" || d.type == "integrated")) return d.index;
  }
  return -1;
}

}  // namespace hearth::vulkan
