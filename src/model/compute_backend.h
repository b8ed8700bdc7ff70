#pragma once
// The compute backends a Placement can name, made by name: "cpu" and "cpu-ref" (ops/), and, in a
// build with Vulkan, "vulkan" (HEARTH_VULKAN_DEVICE or the first GPU) or "vulkan:N" (device N of
// the loader's list, software devices included: tests run on lavapipe that way).

#include <memory>
#include <string>
#include <vector>

#include "ops/backend.h"

namespace hearth::model {

// Error(invalid_argument) for an unknown name; Error(unsupported / not_found) naming the device
// when a Vulkan device cannot be used or there is none.
std::unique_ptr<ops::Backend> make_compute_backend(const std::string& name);

// Whether this build has the Vulkan backend.
bool have_vulkan();

}  // namespace hearth::model
