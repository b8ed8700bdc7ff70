#pragma once
// The Vulkan compute backend behind ops::Backend: tensors in device memory, operations recorded
// into one command buffer and submitted when results are read (Backend::read), so one forward
// pass is one submission. Shaders: src/vulkan/shaders (GLSL, compiled at build time).

#include <cstdint>
#include <memory>

#include "gguf/ggml_type.h"
#include "ops/backend.h"

namespace hearth::vulkan {

// A backend on Vulkan device `index` (list_devices()). Errors name the device and the reason.
std::unique_ptr<ops::Backend> make_backend(int index);

// Whether the shaders can compute with weights of this type.
bool weight_type_supported(gguf::GgmlType type);

// The widest attention heads the attention shader takes (keys, values): DeepSeek's MLA latent.
constexpr int64_t kMaxAttentionKey = 576;
constexpr int64_t kMaxAttentionValue = 512;
// The most experts the router shader chooses among (gpt-oss-120b has 128, DeepSeek-V3 256).
constexpr int64_t kMaxExperts = 256;

// The device Hearth picks when none is named: HEARTH_VULKAN_DEVICE (an index) if set, else the
// first usable discrete or integrated GPU; -1 when there is none (CPU-only machines, or only a
// software device such as lavapipe, which is slower than the CPU backend).
int default_device();

}  // namespace hearth::vulkan
