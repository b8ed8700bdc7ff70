// VulkanBackend's sampling op: each logits row's max, log-sum-exp and k best logits with their
// ids, what the engine reads back instead of whole rows when the sampling settings allow it.
// Two passes: shaders/top_logits.comp, one workgroup per chunk of a row (its max, sum and k best),
// then shaders/top_logits_merge.comp, one workgroup a row, merges the chunks' results.

#include <algorithm>

#include "util/check.h"
#include "vulkan/vk_testing.h"
#include "vulkan/vulkan_backend.h"

namespace hearth::vulkan {

namespace {

// Logits per chunk: at least kMinChunk (a workgroup of 256 then has 32 per invocation to scan),
// more for rows past kMaxChunks of those (the merge keeps every chunk's k best in shared memory:
// 32 x 64 x 8 bytes). A row of Qwen2's 151,936 logits makes 19 chunks.
constexpr int64_t kMinChunk = 8192;
constexpr int64_t kMaxChunks = 32;  // top_logits_merge.comp's MAX_CHUNKS

}  // namespace

int64_t VulkanBackend::top_logits_chunk(int64_t n) {
  const int64_t chunk = std::max(kMinChunk, (n + kMaxChunks - 1) / kMaxChunks);
  return (chunk + 255) / 256 * 256;
}

int64_t testing::top_logits_chunk(int64_t n) { return VulkanBackend::top_logits_chunk(n); }

void VulkanBackend::top_logits(const ops::Tensor& logits, int64_t n_rows, int64_t n, int k,
                               const ops::Tensor& out) {
  HEARTH_CHECK(k >= 1 && k <= ops::kMaxTopLogits && n >= 1);
  HEARTH_CHECK(n_rows * n <= logits.n_elements() && n_rows * ops::top_logits_width(k) <= out.n_elements());
  const int64_t chunk = top_logits_chunk(n), n_chunks = (n + chunk - 1) / chunk;
  const int64_t part_floats = n_rows * n_chunks * ops::top_logits_width(k);
  if (top_parts_.empty() || top_parts_.n_elements() < part_floats) {
    release(top_parts_);
    top_parts_ = alloc(gguf::GgmlType::F32, part_floats, 1);
  }
  // Rows past one dispatch dimension (kMaxGroups) go on in z.
  const uint32_t row_groups = std::min<uint32_t>(u32(n_rows), kMaxGroups), row_layers = groups(n_rows, kMaxGroups);
  const uint32_t pc[] = {u32(n_rows), u32(n), u32(k), kMaxGroups, u32(chunk), u32(n_chunks)};
  dispatch("top_logits", {buf(logits), buf(top_parts_)}, pc, sizeof pc, u32(n_chunks), row_groups, row_layers);
  const uint32_t mc[] = {u32(n_rows), u32(n), u32(k), kMaxGroups, u32(n_chunks)};
  dispatch("top_logits_merge", {buf(logits), buf(top_parts_), buf(out)}, mc, sizeof mc, row_groups, 1, row_layers);
}

}  // namespace hearth::vulkan
