// VulkanBackend's recording: one command buffer, a memory barrier after each operation, one
// submission when the host needs a result; the host-visible parameter ring; dispatch through
// push descriptors.

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "util/check.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

void VulkanBackend::begin() {
  if (recording_) return;
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
  recording_ = true;
}

// Submits what was recorded and waits for it; the parameter ring is free again after.
void VulkanBackend::flush() {
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

void VulkanBackend::barrier() {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT;
  const VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  vkCmdPipelineBarrier(cmd_, st, st, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

// Copies host parameters into the ring; returns their offset in 4-byte words.
uint32_t VulkanBackend::ring_put(const void* data, size_t bytes) {
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
uint32_t VulkanBackend::put_rows(const ops::SeqRows& rows, const float* tail, int64_t n_tail) {
  rows_.resize(static_cast<size_t>(2 * rows.n + n_tail));
  std::copy(rows.pos, rows.pos + rows.n, rows_.begin());
  std::copy(rows.seq, rows.seq + rows.n, rows_.begin() + rows.n);
  if (n_tail > 0) std::memcpy(rows_.data() + 2 * rows.n, tail, static_cast<size_t>(n_tail) * sizeof(float));
  return ring_put(rows_.data(), rows_.size() * sizeof(int32_t));
}

void VulkanBackend::bind(const std::string& shader, std::initializer_list<Binding> bufs, const void* push,
                         size_t push_bytes, const std::vector<uint32_t>& spec) {
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
}

void VulkanBackend::dispatch(const std::string& shader, std::initializer_list<Binding> bufs,
                             const void* push, size_t push_bytes, uint32_t gx, uint32_t gy,
                             uint32_t gz, const std::vector<uint32_t>& spec) {
  if (gx == 0 || gy == 0 || gz == 0) return;
  bind(shader, bufs, push, push_bytes, spec);
  vkCmdDispatch(cmd_, gx, gy, gz);
  barrier();
}

void VulkanBackend::dispatch_indirect(const std::string& shader, std::initializer_list<Binding> bufs,
                                      const void* push, size_t push_bytes, const Binding& counts,
                                      VkDeviceSize at, const std::vector<uint32_t>& spec) {
  bind(shader, bufs, push, push_bytes, spec);
  vkCmdDispatchIndirect(cmd_, counts.buffer, counts.offset + at);
  barrier();
}

void VulkanBackend::indirect_barrier() {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_INDIRECT_COMMAND_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT, 0, 1, &mb, 0,
                       nullptr, 0, nullptr);
}

}  // namespace hearth::vulkan
