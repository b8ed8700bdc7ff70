#pragma once
// The compute devices this process can run models on, for the server's start-up log: one line
// per GPU the Vulkan loader reports ("vulkan:0 NVIDIA A10 (NVIDIA 550.x), 22.5 GiB, discrete"),
// empty without one (or with HEARTH_GPU=0). The CPU is always there.

#include <string>
#include <vector>

namespace hearth::engine {

std::vector<std::string> compute_devices();

}  // namespace hearth::engine
