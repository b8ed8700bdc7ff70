#include "engine/devices.h"

#include <algorithm>

#include "model/compute_backend.h"
#include "util/env.h"

namespace hearth::engine {

std::vector<std::string> compute_devices() { return model::describe_devices(); }

size_t gpu_count() { return model::default_gpus().size(); }

int context_length_for_gpu_memory(uint64_t bytes) {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  if (bytes < 23 * kGiB) return 4096;
  if (bytes < 47 * kGiB) return 32768;
  return 262144;
}

int context_length_for_gpus(const std::vector<uint64_t>& vram_bytes, uint64_t overhead_per_gpu) {
  uint64_t total = 0;
  // Ollama subtracts unsigned and would wrap to a huge total; a GPU the overhead eats adds nothing.
  for (const uint64_t bytes : vram_bytes) total += bytes > overhead_per_gpu ? bytes - overhead_per_gpu : 0;
  return context_length_for_gpu_memory(total);
}

int default_context_length() {
  // Ollama sums every GPU it discovered; Hearth counts the GPUs it would place layers on.
  const std::vector<model::Gpu> gpus = model::default_gpus();
  if (gpus.empty()) return context_length_for_gpus({}, 0);
  std::vector<uint64_t> vram;
  for (const model::Gpu& g : gpus) vram.push_back(g.vram_bytes);
  return context_length_for_gpus(vram, model::gpu_overhead());
}

int context_length_from_env() {
  const int n = env_count("HEARTH_CONTEXT_LENGTH", 0);
  return n == 0 ? default_context_length() : std::max(n, 4);
}

}  // namespace hearth::engine
