#pragma once
// What only tests (tests/vulkan) reach into a Vulkan backend for: nothing in src/ outside this
// folder includes this header; the way in for everyone else is vk_backend.h.

#include <cstdint>
#include <vector>

#include "ops/backend.h"

namespace hearth::vulkan::testing {

// What the last tiled experts' product of a Vulkan backend grouped: its tokens per tile and its
// grouping buffer's words (group_by_expert.comp's counts, firsts and slots, then
// list_expert_tiles.comp's indirect command, item count and work items).
struct ExpertGrouping {
  uint32_t tile_tokens = 0;
  std::vector<uint32_t> words;
};
// Error(invalid_argument) when `backend` is not a Vulkan backend.
ExpertGrouping last_expert_grouping(ops::Backend& backend);
// Caps the work items one indirect dispatch of the experts' products launches (0: the device's
// limit), so that a test reaches the shader's loop over further items.
void cap_expert_work_groups(ops::Backend& backend, uint32_t cap);

// Logits per chunk when top_logits splits a row of n over workgroups (the last chunk shorter),
// so that a test puts the k best and their ties across the chunks' edges.
int64_t top_logits_chunk(int64_t n);

}  // namespace hearth::vulkan::testing
