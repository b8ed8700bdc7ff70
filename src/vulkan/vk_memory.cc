// VulkanBackend's memory: tensors carved from 64 MiB device-local chunks (first fit, freed ranges
// merged), host-visible staging for uploads and reads, and the copies between tensors.

#include <algorithm>
#include <cstring>
#include <string>

#include "ops/kv_quant.h"
#include "util/check.h"
#include "util/error.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

namespace {

// Device memory comes in chunks of this size (a larger tensor gets a chunk of its own): a model
// is then a few allocations, not one per tensor (drivers limit their count, e.g. 4,096).
constexpr VkDeviceSize kChunkBytes = VkDeviceSize{64} << 20;

}  // namespace

using gguf::GgmlType;

ops::Backend::Upload VulkanBackend::upload_weight(GgmlType type, const int64_t ne[3],
                                                  int64_t row_bytes, const uint8_t* data,
                                                  WeightUse) {
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

ops::Tensor VulkanBackend::upload_f32(const float* values, int64_t n_cols, int64_t n_rows) {
  ops::Tensor t = alloc(GgmlType::F32, n_cols, n_rows);
  write(t, n_cols * n_rows, values);
  return t;
}

ops::Tensor VulkanBackend::alloc(GgmlType type, int64_t n_cols, int64_t n_rows) {
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

void VulkanBackend::release(ops::Tensor& t) {
  if (t.empty()) return;
  auto it = records_.find(rec(t));
  HEARTH_CHECK(it != records_.end());
  flush();  // nothing queued may still use it
  bytes_ -= it->second->size;
  give_back(*it->second);
  records_.erase(it);
  t = ops::Tensor{};
}

void VulkanBackend::read(const ops::Tensor& t, int64_t n, float* dst) {
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

void VulkanBackend::write(const ops::Tensor& t, int64_t n, const float* src) {
  copy_in(t, src, static_cast<VkDeviceSize>(n) * sizeof(float));
}

void VulkanBackend::copy_cols(const ops::Tensor& src, int64_t src_width, int64_t src_col,
                              const ops::Tensor& dst, int64_t dst_width, int64_t dst_col,
                              int64_t width, int64_t n_rows) {
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

void VulkanBackend::copy_rows(const ops::Tensor& t, int64_t src, int64_t dst, int64_t n) {
  if (n <= 0) return;
  begin();
  barrier();
  const VkDeviceSize rb = static_cast<VkDeviceSize>(t.row_bytes);
  const Binding b = buf(t);
  VkBufferCopy c{b.offset + src * rb, b.offset + dst * rb, n * rb};
  vkCmdCopyBuffer(cmd_, b.buffer, b.buffer, 1, &c);
  barrier();
}

VkTensor* VulkanBackend::rec(const ops::Tensor& t) const {
  auto* r = static_cast<VkTensor*>(t.handle);
  HEARTH_CHECK(r != nullptr && r->owner == this);  // a tensor of another backend is a bug
  return r;
}

// First fit in the chunks (then a new chunk), offsets aligned for storage-buffer bindings.
void VulkanBackend::carve(VkTensor& t) {
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
  // Indirect too: a shader writes the workgroup counts of the experts' products into a tensor.
  alloc_buffer(c->size,
               VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                   VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT,
               VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, &c->buffer, &c->memory);
  if (c->size > t.taken) c->free.emplace(t.taken, c->size - t.taken);
  t.chunk = c.get();
  t.offset = 0;
  chunks_.push_back(std::move(c));
}

// Returns a tensor's range to its chunk, merged with free neighbours.
void VulkanBackend::give_back(const VkTensor& t) {
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

void VulkanBackend::alloc_buffer(VkDeviceSize size, VkBufferUsageFlags usage,
                                 VkMemoryPropertyFlags want, VkMemoryPropertyFlags fallback,
                                 VkBuffer* b, VkDeviceMemory* m) {
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

HostBuffer VulkanBackend::host_buffer(VkDeviceSize size) {
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

void VulkanBackend::free_host(HostBuffer& h) {
  if (h.buffer == VK_NULL_HANDLE) return;
  vkDestroyBuffer(dev_->vk(), h.buffer, nullptr);
  vkFreeMemory(dev_->vk(), h.memory, nullptr);
  h = HostBuffer{};
}

ops::Tensor VulkanBackend::make(GgmlType type, int64_t n_cols, int64_t n_rows, int64_t row_bytes,
                                VkDeviceSize bytes) {
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

void VulkanBackend::copy_in(const ops::Tensor& t, const void* src, VkDeviceSize total) {
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

}  // namespace hearth::vulkan
