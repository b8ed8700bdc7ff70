#pragma once
// VulkanBackend, private to src/vulkan (vk_backend.h is the way in): each tensor is a range of a
// large device-local allocation (host-visible where that is all the device has); operations are
// recorded into one command buffer, each followed by a memory barrier, and submitted when the host
// needs a result (read), a host write must land (write), or the parameter ring is full. Small host
// arrays an operation needs (token ids, positions, sequence ids, RoPE cos/sin) go into a
// host-visible ring bound as a storage buffer.
//
// The class is defined across files a reader can take in one sitting:
//   vk_backend.cc        construction, the device choice, the HEARTH_VULKAN_MATMUL form
//   vk_memory.cc         device chunks, tensors, host buffers, uploads/reads, copies
//   vk_recording.cc      command buffer, barriers, submission, parameter ring, dispatch
//   vk_ops_matmul.cc     matrix products, the experts' products, router, weighted sum
//   vk_ops_attention.cc  KV-cache store and attention
//   vk_ops_eltwise.cc    embedding rows, norms, RoPE, elementwise ops
//   vk_ops_sampling.cc   each logits row's best logits (sampling on the device)

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gguf/ggml_type.h"
#include "ops/backend.h"
#include "vulkan/vk_backend.h"
#include "vulkan/vk_device.h"
#include "vulkan/vk_testing.h"

namespace hearth::vulkan {

constexpr uint32_t kMaxGroups = 65535;  // per dispatch dimension: Vulkan's guaranteed minimum

// The shader-name suffix of a weight type ("q4_k"); nullptr when the shaders cannot read it.
const char* weight_suffix(gguf::GgmlType t);

inline uint32_t groups(uint64_t n, uint64_t per) {
  return static_cast<uint32_t>((n + per - 1) / per);
}

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
  VkDeviceSize size = 0;   // as asked
  VkDeviceSize taken = 0;  // as carved from the chunk (aligned)
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
  explicit VulkanBackend(std::shared_ptr<Device> dev);
  ~VulkanBackend() override;

  std::string name() const override { return "vulkan:" + std::to_string(dev_->info().index); }
  bool on_host() const override { return false; }
  std::string description() const override { return "Vulkan (" + dev_->info().name + ")"; }

  // vk_memory.cc
  Upload upload_weight(gguf::GgmlType type, const int64_t ne[3], int64_t row_bytes,
                       const uint8_t* data, WeightUse) override;
  ops::Tensor upload_f32(const float* values, int64_t n_cols, int64_t n_rows) override;
  ops::Tensor alloc(gguf::GgmlType type, int64_t n_cols, int64_t n_rows) override;
  void release(ops::Tensor& t) override;
  uint64_t bytes() const override { return bytes_; }
  void read(const ops::Tensor& t, int64_t n, float* dst) override;
  void write(const ops::Tensor& t, int64_t n, const float* src) override;
  void copy_cols(const ops::Tensor& src, int64_t src_width, int64_t src_col, const ops::Tensor& dst,
                 int64_t dst_width, int64_t dst_col, int64_t width, int64_t n_rows) override;
  void copy_rows(const ops::Tensor& t, int64_t src, int64_t dst, int64_t n) override;

  // vk_ops_matmul.cc
  void matmul(const ops::Tensor& w, const ops::Tensor& x, int64_t n_tok,
              const ops::Tensor& y) override;
  void matmul_many(const ops::MatmulJob* jobs, int count, const ops::Tensor& x,
                   int64_t n_tok) override;
  void matmul_id(const ops::Tensor& w, const ops::Tensor& x, bool x_per_slot,
                 const ops::Tensor& ids, int64_t n_tok, int k, const ops::Tensor& y) override;
  void matmul_id_many(const ops::MatmulJob* jobs, int count, const ops::Tensor& x, bool x_per_slot,
                      const ops::Tensor& ids, int64_t n_tok, int k) override;
  void topk_gating(const ops::Tensor& logits, const ops::Tensor& bias, int64_t n_tok,
                   int64_t n_expert, const ops::GatingParams& gp, const ops::Tensor& ids,
                   const ops::Tensor& weights) override;
  void weighted_sum(const ops::Tensor& e, const ops::Tensor& weights, int64_t n_tok, int k,
                    int64_t n, const ops::Tensor& out) override;

  // vk_ops_attention.cc
  void store_kv(const ops::KvView& cache, const ops::Tensor& k, const ops::Tensor& v,
                const ops::SeqRows& rows) override;
  void attention(const ops::AttentionShape& s, const ops::Tensor& q, const ops::KvView& cache,
                 const ops::SeqRows& rows, const ops::Tensor& out) override;

  // vk_ops_eltwise.cc
  void get_rows(const ops::Tensor& table, const int32_t* ids, int64_t n,
                const ops::Tensor& out) override;
  void rmsnorm(const ops::Tensor& x, const ops::Tensor& w, int64_t n_rows, int64_t n, float eps,
               const ops::Tensor& out) override;
  void layernorm(const ops::Tensor& x, const ops::Tensor& w, const ops::Tensor& b, int64_t n_rows,
                 int64_t n, float eps, const ops::Tensor& out) override;
  void rope(const ops::Tensor& x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
            const ops::RopeParams& p) override;
  void swiglu(const ops::Tensor& g, const ops::Tensor& u, int64_t n,
              const ops::Tensor& out) override;
  void geglu(const ops::Tensor& g, const ops::Tensor& u, int64_t n,
             const ops::Tensor& out) override;
  void gelu(const ops::Tensor& x, int64_t n, const ops::Tensor& out) override;
  void add(const ops::Tensor& y, const ops::Tensor& x, int64_t n) override;
  void swiglu_oai(const ops::Tensor& g, const ops::Tensor& u, int64_t n, float alpha, float limit,
                  const ops::Tensor& out) override;
  void add_bias_id(const ops::Tensor& y, const ops::Tensor& b, const ops::Tensor& ids,
                   int64_t n_tok, int k, int64_t n) override;
  void add_bias(const ops::Tensor& x, const ops::Tensor& b, int64_t n_rows, int64_t n) override;
  void scale(const ops::Tensor& x, float s, int64_t n) override;
  void softcap(const ops::Tensor& x, float cap, int64_t n) override;

  // vk_ops_sampling.cc
  void top_logits(const ops::Tensor& logits, int64_t n_rows, int64_t n, int k,
                  const ops::Tensor& out) override;
  // Logits per chunk when top_logits splits a row of n over workgroups (the last chunk shorter).
  static int64_t top_logits_chunk(int64_t n);

  // For tests (vk_testing.h), vk_ops_matmul.cc.
  testing::ExpertGrouping expert_grouping();
  void cap_expert_work_groups(uint32_t cap) { expert_work_group_cap_ = cap; }

 private:
  static uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

  VkTensor* rec(const ops::Tensor& t) const;
  Binding buf(const ops::Tensor& t) const {
    const VkTensor* r = rec(t);
    return {r->chunk->buffer, r->offset, r->taken};
  }
  Binding ring() const { return {ring_.buffer, 0, VK_WHOLE_SIZE}; }

  // vk_memory.cc
  void carve(VkTensor& t);
  void give_back(const VkTensor& t);
  void alloc_buffer(VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags want,
                    VkMemoryPropertyFlags fallback, VkBuffer* b, VkDeviceMemory* m);
  HostBuffer host_buffer(VkDeviceSize size);
  void free_host(HostBuffer& h);
  ops::Tensor make(gguf::GgmlType type, int64_t n_cols, int64_t n_rows, int64_t row_bytes,
                   VkDeviceSize bytes);
  void copy_in(const ops::Tensor& t, const void* src, VkDeviceSize total);

  // vk_recording.cc
  void begin();
  void flush();
  void barrier();
  uint32_t ring_put(const void* data, size_t bytes);
  uint32_t put_rows(const ops::SeqRows& rows, const float* tail = nullptr, int64_t n_tail = 0);
  // Binds a shader's pipeline, buffers (push descriptors) and push constants for the next dispatch.
  void bind(const std::string& shader, std::initializer_list<Binding> bufs, const void* push, size_t push_bytes,
            const std::vector<uint32_t>& spec);
  void dispatch(const std::string& shader, std::initializer_list<Binding> bufs, const void* push,
                size_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz, const std::vector<uint32_t>& spec = {});
  // A dispatch whose workgroup counts a shader wrote: the VkDispatchIndirectCommand at byte `at` of
  // `counts` (a tensor: chunks are created with VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT).
  void dispatch_indirect(const std::string& shader, std::initializer_list<Binding> bufs, const void* push,
                         size_t push_bytes, const Binding& counts, VkDeviceSize at,
                         const std::vector<uint32_t>& spec);
  // Makes the shader writes before it visible to the indirect command reads after it (the
  // ordinary barrier covers shader and transfer reads only).
  void indirect_barrier();

  // vk_ops_matmul.cc
  void matmul_at(const ops::Tensor& w, VkDeviceSize w_off, int64_t n_rows, const ops::Tensor& x,
                 int64_t n_tok, const ops::Tensor& y);
  void matmul_id_tiled(const ops::MatmulJob* jobs, int count, const ops::Tensor& x, bool x_per_slot,
                       const ops::Tensor& ids, int64_t n_tok, int k);

  // vk_ops_eltwise.cc
  void eltwise(int op, const ops::Tensor& a, const ops::Tensor& b, const ops::Tensor& c, int64_t n,
               int64_t n_cols, float f, float f2 = 0.0f);

  std::shared_ptr<Device> dev_;
  // A software device (lavapipe) runs one invocation per row far faster than a workgroup
  // reduction per row (its barriers are expensive); a GPU wants the reduction (coalesced reads).
  bool row_per_invocation_;
  enum class MatmulForm { chosen, tiled, reduce, rows };
  // HEARTH_VULKAN_MATMUL, read once: unset = chosen per pass.
  static MatmulForm matmul_form_from_env();
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
  ops::Tensor parts_;                 // split attention's partial states
  ops::Tensor top_parts_;             // top_logits' chunks' results, before the merge
  // The tiled expert products' grouping (group_by_expert.comp), work list and indirect command
  // (list_expert_tiles.comp); the last call's tokens per tile; a test's cap on the work items
  // one dispatch launches (0: the device's limit).
  ops::Tensor slot_groups_;
  uint32_t expert_tile_tokens_ = 0;
  uint32_t expert_work_group_cap_ = 0;
  std::vector<VkBufferCopy> copies_;  // copy_cols regions, one per row
};

}  // namespace hearth::vulkan
