// VulkanBackend's construction and the module's entry points: make_backend, the weight types
// the shaders read, the device Hearth picks (vulkan_backend.h says which file holds what).

#include "vulkan/vk_backend.h"

#include <string>
#include <vector>

#include "util/env.h"
#include "util/error.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

namespace {

constexpr VkDeviceSize kStagingBytes = VkDeviceSize{32} << 20;
constexpr VkDeviceSize kRingBytes = VkDeviceSize{4} << 20;

}  // namespace

using gguf::GgmlType;

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

VulkanBackend::VulkanBackend(std::shared_ptr<Device> dev)
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

VulkanBackend::~VulkanBackend() {
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

// HEARTH_VULKAN_MATMUL, read once: unset = chosen per pass.
VulkanBackend::MatmulForm VulkanBackend::matmul_form_from_env() {
  const std::string v = env_value("HEARTH_VULKAN_MATMUL");
  if (v.empty()) return MatmulForm::chosen;
  if (v == "tiled") return MatmulForm::tiled;
  if (v == "reduce") return MatmulForm::reduce;
  if (v == "rows") return MatmulForm::rows;
  throw Error(ErrorCode::invalid_argument, "HEARTH_VULKAN_MATMUL=" + v + ": expected tiled, reduce or rows");
}

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
