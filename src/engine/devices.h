#pragma once
// The compute devices this process can run models on, for the server's start-up log: one line
// per GPU the Vulkan loader reports ("vulkan:0 NVIDIA A10 (NVIDIA 550.x), 22.5 GiB, discrete"),
// empty without one (or with HEARTH_GPU=0). The CPU is always there.

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::engine {

std::vector<std::string> compute_devices();

// Ollama's default num_ctx by GPU memory: under 23 GiB 4096, under 47 GiB 32768, else 262144
// (no GPU: 4096). default_context_length() applies it to the default GPU.
int context_length_for_gpu_memory(uint64_t bytes);
int default_context_length();

}  // namespace hearth::engine
