#pragma once
// The compute devices this process can run models on, for the server's start-up log: one line
// per GPU the Vulkan loader reports ("vulkan:0 NVIDIA A10 (NVIDIA 550.x), 22.5 GiB, discrete"),
// empty without one (or with HEARTH_GPU=0). The CPU is always there.

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::engine {

std::vector<std::string> compute_devices();
// The GPUs models are placed on by default (model::default_gpus).
size_t gpu_count();

// Ollama's default num_ctx by GPU memory: under 23 GiB 4096, under 47 GiB 32768, else 262144
// (no GPU: 4096).
int context_length_for_gpu_memory(uint64_t bytes);
// The same for the memory of several GPUs together, each less `overhead_per_gpu` bytes
// (HEARTH_GPU_OVERHEAD); a GPU smaller than the overhead counts as none.
int context_length_for_gpus(const std::vector<uint64_t>& vram_bytes, uint64_t overhead_per_gpu);
// context_length_for_gpus over model::default_gpus() and model::gpu_overhead().
int default_context_length();
// HEARTH_CONTEXT_LENGTH (else OLLAMA_CONTEXT_LENGTH) as Ollama reads it: a whole number n gives
// max(n, 4); unset, 0 or malformed (a warning) give default_context_length().
int context_length_from_env();

}  // namespace hearth::engine
