#pragma once
// The compute backends a Placement can name, made by name: "cpu" and "cpu-ref" (ops/), and, in a
// build with Vulkan, "vulkan" (HEARTH_VULKAN_DEVICE or the first GPU) or "vulkan:N" (device N of
// the loader's list, software devices included: tests run on lavapipe that way).

#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "ops/backend.h"

namespace hearth::model {

// Error(invalid_argument) for an unknown name; Error(unsupported / not_found) naming the device
// when a Vulkan device cannot be used or there is none.
std::unique_ptr<ops::Backend> make_compute_backend(const std::string& name);

// A GPU the default placement may use (software devices such as lavapipe are left out unless
// HEARTH_VULKAN_DEVICE names them).
struct Gpu {
  std::string backend;  // "vulkan:0"
  std::string name, driver;
  uint64_t vram_bytes = 0;  // device-local memory
};
// Every Vulkan device the loader reports, usable or not, for the server's start-up log: one line
// each ("vulkan:0 NVIDIA A10 (NVIDIA 535.x), 22.5 GiB, discrete" or why it cannot be used).
std::vector<std::string> describe_devices();
// The GPU placements go to by default: HEARTH_VULKAN_DEVICE's, else the first discrete or
// integrated one; none with HEARTH_GPU=0 or without Vulkan.
std::vector<Gpu> default_gpus();
// HEARTH_GPU_OVERHEAD (else OLLAMA_GPU_OVERHEAD): bytes of each GPU's memory to leave unused, 0
// when unset or not a whole number (a warning, as Ollama).
uint64_t gpu_overhead();

// Bytes of one layer's KV cache for n_seq sequences of n_ctx positions in a cache of kv_type, from
// the file's attention keys; 0 for an encoder (bert, nomic-bert), which keeps no cache.
uint64_t kv_cache_bytes_per_layer(const gguf::File& file, int64_t n_ctx, int n_seq, gguf::GgmlType kv_type);
// Each layer's KV cache bytes as Model::make_cache(n_ctx, n_seq, kv_type, n_batch) allocates them:
// a sliding-window layer counts its ring (kv_ring_slots), the others n_ctx positions; the layers
// and their windows are the architecture's spec (Error as load_model for an unknown one). What
// the scheduler's estimate and the placement plan count.
std::vector<uint64_t> kv_cache_bytes_by_layer(const gguf::File& file, int64_t n_ctx, int n_seq,
                                              gguf::GgmlType kv_type, int64_t n_batch);

// Where a model's layers go, as Ollama's num_gpu says: num_gpu layers (the last ones, with the
// output head) on the default GPU; -1 = as many as fit in its memory after their KV cache and a
// reserve for activations; 0, or no GPU, = all on the CPU. Sizes come from the file's tensors.
struct PlacementPlan {
  Placement placement;
  uint64_t gpu_bytes = 0;  // weights + KV cache planned on the GPU
};
// HEARTH_GPU_OVERHEAD bytes of the GPU's memory are left unused, as OLLAMA_GPU_OVERHEAD does.
// `in_use` bytes of it are held by other models.
// n_batch: the positions of a sequence per forward pass the cache is made for (rings).
PlacementPlan plan_placement(const gguf::File& file, int num_gpu, int64_t n_ctx, int n_seq,
                             gguf::GgmlType kv_type, uint64_t in_use = 0, int64_t n_batch = 512);
// The same on a given GPU.
PlacementPlan plan_placement_on(const Gpu& gpu, const gguf::File& file, int num_gpu, int64_t n_ctx,
                                int n_seq, gguf::GgmlType kv_type, uint64_t in_use = 0,
                                int64_t n_batch = 512);

}  // namespace hearth::model
