#include "model/compute_backend.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "model/architectures.h"
#include "model/kv_cache.h"
#include "ops/kv_quant.h"
#include "util/env.h"
#include "util/error.h"
#if HEARTH_VULKAN
#include "vulkan/vk_backend.h"
#include "vulkan/vk_device.h"
#endif

namespace hearth::model {

uint64_t kv_cache_bytes_per_layer(const gguf::File& file, int64_t n_ctx, int n_seq, gguf::GgmlType kv_type) {
  const std::string arch = file.get_string_or("general.architecture", "");
  // An encoder keeps no cache: each pass's keys and values live in its scratch (encoder_blocks.cc).
  if (is_encoder_architecture(arch)) return 0;
  const std::string p = arch + ".";
  const int64_t n_head = std::max<int64_t>(file.get_i64_or(p + "attention.head_count", 1), 1);
  const int64_t n_head_kv = file.get_i64_or(p + "attention.head_count_kv", n_head);
  const int64_t dk = file.get_i64_or(p + "attention.key_length", file.get_i64_or(p + "embedding_length", 0) / n_head);
  const int64_t dv = file.get_i64_or(p + "attention.value_length", dk);
  const int64_t kv_lora = file.get_i64_or(p + "attention.kv_lora_rank", 0);
  // MLA (deepseek2) caches one latent and one shared RoPE key per position, whatever the heads.
  const uint64_t row_bytes =
      kv_lora > 0 ? static_cast<uint64_t>(ops::kv_row_bytes(kv_type, kv_lora + file.get_i64_or(p + "rope.dimension_count", 0)))
                  : static_cast<uint64_t>(ops::kv_row_bytes(kv_type, n_head_kv * dk) +
                                          ops::kv_row_bytes(kv_type, n_head_kv * dv));
  return static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(n_seq) * row_bytes;
}

std::vector<uint64_t> kv_cache_bytes_by_layer(const gguf::File& file, int64_t n_ctx, int n_seq,
                                              gguf::GgmlType kv_type, int64_t n_batch) {
  const uint64_t full = kv_cache_bytes_per_layer(file, n_ctx, n_seq, kv_type);
  std::vector<uint64_t> out;
  for (const int64_t window : layer_windows(file)) {
    const int64_t ring = kv_ring_slots(window, n_ctx, n_batch);
    out.push_back(ring > 0 ? kv_cache_bytes_per_layer(file, ring, n_seq, kv_type) : full);
  }
  return out;
}

// As Ollama's envconfig.Uint64: a malformed value is warned about and counts as 0.
uint64_t gpu_overhead() { return env_uint("HEARTH_GPU_OVERHEAD", 0); }

std::vector<std::string> describe_devices() {
  std::vector<std::string> out;
#if HEARTH_VULKAN
  for (const vulkan::DeviceInfo& d : vulkan::list_devices()) {
    char vram[32];
    std::snprintf(vram, sizeof vram, "%.1f GiB", static_cast<double>(d.vram_bytes) / (1ull << 30));
    out.push_back("vulkan:" + std::to_string(d.index) + " " + d.name + " (" + d.driver + "), " + vram + ", " +
                  d.type + (d.usable ? "" : ", not usable: " + d.why_not) +
                  (d.usable && d.type == "cpu" ? " (software: used only when HEARTH_VULKAN_DEVICE names it)" : ""));
  }
#endif
  return out;
}

std::vector<Gpu> default_gpus() {
  std::vector<Gpu> out;
#if HEARTH_VULKAN
  const int index = vulkan::default_device();
  for (const vulkan::DeviceInfo& d : vulkan::list_devices()) {
    if (d.index == index && d.usable) out.push_back({"vulkan:" + std::to_string(d.index), d.name, d.driver, d.vram_bytes});
  }
#endif
  return out;
}

namespace {
// What the shaders cannot do whatever the weight types: attention heads wider than the attention
// shader takes (an MLA latent past DeepSeek's 512 + 64) and more than 32 expert groups.
bool vulkan_runs_layers(const gguf::File& file, const std::string& p) {
#if HEARTH_VULKAN
  const int64_t kv_lora = file.get_i64_or(p + "attention.kv_lora_rank", 0);
  // Without key_length (BERT-style files have none) a head is n_embd / n_head wide.
  const int64_t n_head = std::max<int64_t>(file.get_i64_or(p + "attention.head_count", 1), 1);
  const int64_t head = file.get_i64_or(p + "attention.key_length", file.get_i64_or(p + "embedding_length", 0) / n_head);
  const int64_t dk = kv_lora > 0 ? kv_lora + file.get_i64_or(p + "rope.dimension_count", 0) : head;
  const int64_t dv = kv_lora > 0 ? kv_lora : file.get_i64_or(p + "attention.value_length", head);
  return dk <= vulkan::kMaxAttentionKey && dv <= vulkan::kMaxAttentionValue &&
         file.get_i64_or(p + "expert_group_count", 1) <= 32 && file.get_i64_or(p + "expert_count", 0) <= vulkan::kMaxExperts;
#else
  (void)file;
  (void)p;
  return false;
#endif
}
}  // namespace

PlacementPlan plan_placement(const gguf::File& file, int num_gpu, int64_t n_ctx, int n_seq,
                             gguf::GgmlType kv_type, uint64_t in_use, int64_t n_batch) {
  const std::vector<Gpu> gpus = num_gpu == 0 ? std::vector<Gpu>{} : default_gpus();
  if (gpus.empty()) return {};
  return plan_placement_on(gpus[0], file, num_gpu, n_ctx, n_seq, kv_type, in_use, n_batch);
}

PlacementPlan plan_placement_on(const Gpu& gpu, const gguf::File& file, int num_gpu, int64_t n_ctx,
                                int n_seq, gguf::GgmlType kv_type, uint64_t in_use, int64_t n_batch) {
  PlacementPlan plan;
  // The shaders store and read f16, f32, q8_0 and q4_0 caches (every type parse_type accepts).
  if (num_gpu == 0) return plan;
  const std::string arch = file.get_string_or("general.architecture", "");
  // An encoder has no output head: what is not in a layer (its embeddings, their norm, the
  // position and token-type tables) goes with the first layer (encoder.cc).
  const bool encoder = is_encoder_architecture(arch);
  const std::string p = arch + ".";
  const int64_t n_layer = file.get_i64_or(p + "block_count", 0);
  if (n_layer <= 0) return plan;
  if (!vulkan_runs_layers(file, p)) return plan;
  // Per layer: its tensors' bytes and its KV cache; the head: output (or the tied embeddings)
  // and its norm.
  // A layer goes to the GPU only if the shaders can run its weight types.
  std::vector<uint64_t> layer(static_cast<size_t>(n_layer), 0);
  std::vector<uint8_t> layer_ok(static_cast<size_t>(n_layer), 1);
  bool head_ok = true, embd_ok = true;
  uint64_t head = 0, embd = 0, output = 0;
  for (const auto& t : file.tensors()) {
#if HEARTH_VULKAN
    const bool ok = t.n_dims == 1 || vulkan::weight_type_supported(t.type);
#else
    const bool ok = false;
#endif
    if (t.name.rfind("blk.", 0) == 0) {
      const int64_t il = std::atoll(t.name.c_str() + 4);
      if (il >= 0 && il < n_layer) {
        layer[static_cast<size_t>(il)] += t.n_bytes;
        if (!ok) layer_ok[static_cast<size_t>(il)] = 0;
      }
      continue;
    }
    if (t.name == "token_embd.weight" || encoder) {
      embd += t.n_bytes;
      embd_ok = embd_ok && ok;
    } else if (t.name == "output.weight") {
      output = t.n_bytes;
    } else {
      head += t.n_bytes;
    }
    if (!ok && t.name != "token_embd.weight" && !encoder) head_ok = false;
  }
  head += output > 0 ? output : embd;
  if (output == 0) head_ok = head_ok && embd_ok;  // tied: the head multiplies by the embeddings
  std::vector<uint64_t> kv_layer;
  try {
    kv_layer = kv_cache_bytes_by_layer(file, n_ctx, n_seq, kv_type, n_batch);
  } catch (const Error&) {
    // A key the spec needs is missing or bad (the load will say which): count whole contexts.
    kv_layer.assign(static_cast<size_t>(n_layer), kv_cache_bytes_per_layer(file, n_ctx, n_seq, kv_type));
  }
  if (kv_layer.size() != static_cast<size_t>(n_layer)) return plan;  // the load will say why
  // Activations, logits and the driver's own use: a fixed reserve, as Ollama keeps one.
  const uint64_t reserve = (uint64_t{512} << 20) + gpu_overhead();
  const uint64_t total = gpu.vram_bytes / 10 * 9;
  const uint64_t budget = total > in_use ? total - in_use : 0;
  if (encoder) {  // no head at all (not tied embeddings): only the layers and the embeddings count
    head = 0;
    head_ok = true;
  }
  int64_t n = 0;
  uint64_t used = reserve + head;
  const int64_t want = num_gpu < 0 ? n_layer : std::min<int64_t>(num_gpu, n_layer);
  if (!head_ok) return plan;
  while (n < want && layer_ok[static_cast<size_t>(n_layer - 1 - n)]) {
    const uint64_t next = layer[static_cast<size_t>(n_layer - 1 - n)] + kv_layer[static_cast<size_t>(n_layer - 1 - n)];
    if (num_gpu < 0 && used + next > budget) break;
    used += next;
    ++n;
  }
  if (n == n_layer && !embd_ok) --n;  // the first layer's backend looks the embeddings up
  if (n == n_layer) used += embd;     // the whole model: the embedding table goes too
  if (n == 0) return plan;
  plan.placement = {"cpu", gpu.backend, static_cast<int>(n)};
  plan.gpu_bytes = used - reserve;
  return plan;
}

std::unique_ptr<ops::Backend> make_compute_backend(const std::string& name) {
  if (name.rfind("vulkan", 0) != 0) return ops::make_backend(name);
#if HEARTH_VULKAN
  int index = -1;
  if (name == "vulkan") {
    index = vulkan::default_device();
    if (index < 0) throw Error(ErrorCode::not_found, "no Vulkan GPU found");
  } else if (name.size() > 7 && name[6] == ':') {
    try {
      index = std::stoi(name.substr(7));
    } catch (const std::exception&) {
      throw Error(ErrorCode::invalid_argument, "unknown compute backend '" + name + "'");
    }
  } else {
    throw Error(ErrorCode::invalid_argument, "unknown compute backend '" + name + "'");
  }
  return vulkan::make_backend(index);
#else
  throw Error(ErrorCode::unsupported, "this build of Hearth has no Vulkan backend ('" + name + "')");
#endif
}

}  // namespace hearth::model
