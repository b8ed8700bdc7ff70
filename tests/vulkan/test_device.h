#pragma once
// The Vulkan device the tests run on: the first usable one the loader reports (lavapipe here and
// in CI), or -1 when there is none (the tests then skip, saying so).

#include <string>

#include "vulkan/vk_device.h"

// In a test: `dev` (the device index) and `vk` (its backend name "vulkan:N"), or the test is
// skipped, saying so.
#define NEED_VULKAN()                                                                    \
  const int dev = ::hearth::vulkan::testing::test_device();                              \
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device (install mesa-vulkan-drivers)"; \
  const std::string vk = "vulkan:" + std::to_string(dev)

namespace hearth::vulkan::testing {

inline const DeviceInfo* test_device_info() {
  static const std::vector<DeviceInfo> devices = list_devices();
  for (const DeviceInfo& d : devices) {
    if (d.usable) return &d;
  }
  return nullptr;
}

inline int test_device() {
  const DeviceInfo* d = test_device_info();
  return d != nullptr ? d->index : -1;
}

}  // namespace hearth::vulkan::testing
