#pragma once
// One Vulkan device as the backend uses it: instance, physical device, logical device with one
// compute queue, the memory types to allocate from, and the compute pipelines (built once per
// shader from the SPIR-V compiled into the binary). Devices are opened once per process and
// shared by every backend on them; submissions to the queue take `queue_mutex`.

#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hearth::vulkan {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::string driver;
  std::string type;  // "discrete", "integrated", "virtual", "cpu", "other"
  uint64_t vram_bytes = 0;  // device-local heap(s)
  bool usable = false;      // has what the backend needs (compute queue, push descriptors, 8/16-bit storage)
  std::string why_not;
};

// The devices the Vulkan loader reports, in its order (empty when there is no loader driver).
// HEARTH_GPU=0 hides them all.
std::vector<DeviceInfo> list_devices();

struct Pipeline {
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  int n_bindings = 0;
};

class Device {
 public:
  // Opens device `index` of list_devices(); Error(unavailable-style: not_found / unsupported)
  // naming the device when it cannot be used.
  static std::shared_ptr<Device> open(int index);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceInfo& info() const { return info_; }
  VkDevice vk() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const VkPhysicalDeviceLimits& limits() const { return limits_; }
  std::mutex& queue_mutex() { return queue_mutex_; }

  // A memory type with all of `want` among those `type_bits` allows; -1 if none.
  int memory_type(uint32_t type_bits, VkMemoryPropertyFlags want) const;
  // The pipeline of an embedded shader (shaders.h), built on first use; `spec` gives its
  // specialization constants 0, 1, .. (tile sizes the shader declares with constant_id), one
  // pipeline per distinct set.
  const Pipeline& pipeline(const std::string& shader, int n_bindings, const std::vector<uint32_t>& spec = {});
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_set() const { return push_descriptor_set_; }

 private:
  Device() = default;
  DeviceInfo info_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  VkPhysicalDeviceLimits limits_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_set_ = nullptr;
  std::mutex queue_mutex_;
  std::mutex pipelines_mutex_;
  std::map<std::string, Pipeline> pipelines_;
};

// Error(internal) naming the call when a Vulkan call fails (device lost, out of memory: the
// request fails with that message, the process goes on).
void check(VkResult r, const char* what);

}  // namespace hearth::vulkan
