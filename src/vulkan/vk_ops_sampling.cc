// VulkanBackend's sampling op: each logits row's max, log-sum-exp and k best logits with their
// ids (shaders/top_logits.comp, one workgroup a row), what the engine reads back instead of whole
// rows when the sampling settings allow it.

#include <algorithm>

#include "util/check.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

void VulkanBackend::top_logits(const ops::Tensor& logits, int64_t n_rows, int64_t n, int k,
                               const ops::Tensor& out) {
  HEARTH_CHECK(k >= 1 && k <= ops::kMaxTopLogits && n >= 1);
  HEARTH_CHECK(n_rows * n <= logits.n_elements() && n_rows * ops::top_logits_width(k) <= out.n_elements());
  const uint32_t pc[] = {u32(n_rows), u32(n), u32(k), kMaxGroups};
  dispatch("top_logits", {buf(logits), buf(out)}, pc, sizeof pc,
           std::min<uint32_t>(u32(n_rows), kMaxGroups), 1, groups(n_rows, kMaxGroups));
}

}  // namespace hearth::vulkan
