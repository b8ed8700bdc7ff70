#include "engine/devices.h"

#include "model/compute_backend.h"

namespace hearth::engine {

std::vector<std::string> compute_devices() { return model::describe_devices(); }

int context_length_for_gpu_memory(uint64_t bytes) {
  constexpr uint64_t kGiB = uint64_t{1} << 30;
  if (bytes < 23 * kGiB) return 4096;
  if (bytes < 47 * kGiB) return 32768;
  return 262144;
}

int default_context_length() {
  const std::vector<model::Gpu> gpus = model::default_gpus();
  return context_length_for_gpu_memory(gpus.empty() ? 0 : gpus[0].vram_bytes);
}

}  // namespace hearth::engine
