#include "vulkan/vk_device.h"

#include <cstring>

#include "util/env.h"
#include "util/error.h"
#include "vulkan/shaders.h"

namespace hearth::vulkan {

void check(VkResult r, const char* what) {
  if (r == VK_SUCCESS) return;
  const ErrorCode code = (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
                             ? ErrorCode::resource_exhausted
                             : ErrorCode::internal;
  throw Error(code, std::string("Vulkan: ") + what + " failed (VkResult " + std::to_string(r) + ")");
}

namespace {

VkInstance make_instance() {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "hearth";
  app.apiVersion = VK_API_VERSION_1_2;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  if (vkCreateInstance(&ci, nullptr, &instance) != VK_SUCCESS) return VK_NULL_HANDLE;
  return instance;
}

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

int compute_family(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  for (uint32_t i = 0; i < n; ++i) {
    if (fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return static_cast<int>(i);
  }
  return -1;
}

bool has_extension(VkPhysicalDevice pd, const char* name) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> ext(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, ext.data());
  for (const auto& e : ext) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

DeviceInfo describe(VkPhysicalDevice pd, int index) {
  DeviceInfo d;
  d.index = index;
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props.pNext = &driver;
  vkGetPhysicalDeviceProperties2(pd, &props);
  d.name = props.properties.deviceName;
  d.driver = std::string(driver.driverName) + " " + driver.driverInfo;
  d.type = type_name(props.properties.deviceType);
  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) d.vram_bytes += mem.memoryHeaps[i].size;
  }
  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  s16.pNext = &s8;
  VkPhysicalDeviceFeatures2 f{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  f.pNext = &s16;
  vkGetPhysicalDeviceFeatures2(pd, &f);
  if (compute_family(pd) < 0) {
    d.why_not = "no compute queue";
  } else if (!has_extension(pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME)) {
    d.why_not = "no VK_KHR_push_descriptor";
  } else if (!s16.storageBuffer16BitAccess || !s8.storageBuffer8BitAccess) {
    d.why_not = "no 8/16-bit storage buffer access";
  } else {
    d.usable = true;
  }
  return d;
}

struct Instance {
  VkInstance vk = VK_NULL_HANDLE;
  std::vector<VkPhysicalDevice> devices;
  Instance() {
    vk = make_instance();
    if (vk == VK_NULL_HANDLE) return;
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(vk, &n, nullptr);
    devices.resize(n);
    vkEnumeratePhysicalDevices(vk, &n, devices.data());
  }
  ~Instance() {
    if (vk != VK_NULL_HANDLE) vkDestroyInstance(vk, nullptr);
  }
};

// One instance per process: devices opened from it live as long as the process.
Instance& instance() {
  static Instance* i = new Instance();  // never destroyed: devices may outlive static teardown
  return *i;
}

bool gpu_disabled() {
  const std::string v = env_value("HEARTH_GPU");
  return v == "0" || v == "false" || v == "off";
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  if (gpu_disabled()) return out;
  Instance& inst = instance();
  for (size_t i = 0; i < inst.devices.size(); ++i) out.push_back(describe(inst.devices[i], static_cast<int>(i)));
  return out;
}

std::shared_ptr<Device> Device::open(int index) {
  static std::mutex mu;
  static std::map<int, std::weak_ptr<Device>> open_devices;
  std::lock_guard<std::mutex> lock(mu);
  if (auto d = open_devices[index].lock()) return d;
  if (gpu_disabled()) throw Error(ErrorCode::unsupported, "Vulkan devices are disabled (HEARTH_GPU=0)");
  Instance& inst = instance();
  if (index < 0 || index >= static_cast<int>(inst.devices.size())) {
    throw Error(ErrorCode::not_found, "Vulkan device " + std::to_string(index) + " does not exist (" +
                                          std::to_string(inst.devices.size()) + " found)");
  }
  std::shared_ptr<Device> d(new Device());
  d->physical_ = inst.devices[static_cast<size_t>(index)];
  d->info_ = describe(d->physical_, index);
  if (!d->info_.usable) {
    throw Error(ErrorCode::unsupported, "Vulkan device " + std::to_string(index) + " (" + d->info_.name +
                                            ") cannot run Hearth: " + d->info_.why_not);
  }
  d->instance_ = inst.vk;
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties(d->physical_, &props);
  d->limits_ = props.limits;
  vkGetPhysicalDeviceMemoryProperties(d->physical_, &d->memory_);
  d->queue_family_ = static_cast<uint32_t>(compute_family(d->physical_));

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = d->queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  s16.storageBuffer16BitAccess = VK_TRUE;
  VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  s8.storageBuffer8BitAccess = VK_TRUE;
  s16.pNext = &s8;
  const char* ext[] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &s16;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = 1;
  dci.ppEnabledExtensionNames = ext;
  check(vkCreateDevice(d->physical_, &dci, nullptr, &d->device_), "vkCreateDevice");
  vkGetDeviceQueue(d->device_, d->queue_family_, 0, &d->queue_);
  d->push_descriptor_set_ = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(
      vkGetDeviceProcAddr(d->device_, "vkCmdPushDescriptorSetKHR"));
  if (d->push_descriptor_set_ == nullptr) throw Error(ErrorCode::unsupported, "Vulkan: vkCmdPushDescriptorSetKHR missing");
  open_devices[index] = d;
  return d;
}

Device::~Device() {
  if (device_ == VK_NULL_HANDLE) return;
  vkDeviceWaitIdle(device_);
  for (auto& [name, p] : pipelines_) {
    vkDestroyPipeline(device_, p.pipeline, nullptr);
    vkDestroyPipelineLayout(device_, p.layout, nullptr);
    vkDestroyDescriptorSetLayout(device_, p.set_layout, nullptr);
  }
  vkDestroyDevice(device_, nullptr);
}

int Device::memory_type(uint32_t type_bits, VkMemoryPropertyFlags want) const {
  for (uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if ((type_bits & (1u << i)) && (memory_.memoryTypes[i].propertyFlags & want) == want) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

const Pipeline& Device::pipeline(const std::string& shader, int n_bindings, const std::vector<uint32_t>& spec) {
  std::string key = shader;
  for (uint32_t v : spec) key += "/" + std::to_string(v);
  std::lock_guard<std::mutex> lock(pipelines_mutex_);
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;
  const ShaderCode code = shader_code(shader);
  if (code.words == nullptr) throw Error(ErrorCode::internal, "Vulkan: no shader named " + shader);
  Pipeline p;
  p.n_bindings = n_bindings;
  std::vector<VkDescriptorSetLayoutBinding> b(static_cast<size_t>(n_bindings));
  for (int i = 0; i < n_bindings; ++i) {
    b[i].binding = static_cast<uint32_t>(i);
    b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    b[i].descriptorCount = 1;
    b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo lci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  lci.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  lci.bindingCount = static_cast<uint32_t>(n_bindings);
  lci.pBindings = b.data();
  check(vkCreateDescriptorSetLayout(device_, &lci, nullptr, &p.set_layout), "vkCreateDescriptorSetLayout");
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, 128};
  VkPipelineLayoutCreateInfo pci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pci.setLayoutCount = 1;
  pci.pSetLayouts = &p.set_layout;
  pci.pushConstantRangeCount = 1;
  pci.pPushConstantRanges = &range;
  check(vkCreatePipelineLayout(device_, &pci, nullptr, &p.layout), "vkCreatePipelineLayout");
  VkShaderModuleCreateInfo sci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  sci.codeSize = code.size;
  sci.pCode = code.words;
  VkShaderModule module;
  check(vkCreateShaderModule(device_, &sci, nullptr, &module), "vkCreateShaderModule");
  VkComputePipelineCreateInfo cci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  cci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  cci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  cci.stage.module = module;
  cci.stage.pName = "main";
  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (size_t i = 0; i < spec.size(); ++i) {
    entries[i] = {static_cast<uint32_t>(i), static_cast<uint32_t>(i * sizeof(uint32_t)), sizeof(uint32_t)};
  }
  VkSpecializationInfo si{static_cast<uint32_t>(entries.size()), entries.data(), spec.size() * sizeof(uint32_t),
                          spec.data()};
  if (!spec.empty()) cci.stage.pSpecializationInfo = &si;
  cci.layout = p.layout;
  const VkResult r = vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &cci, nullptr, &p.pipeline);
  vkDestroyShaderModule(device_, module, nullptr);
  check(r, "vkCreateComputePipelines");
  return pipelines_.emplace(key, p).first->second;
}

}  // namespace hearth::vulkan
