#include "engine/context_fit.h"

#include <algorithm>

namespace hearth::engine {

int context_keep(int num_keep, size_t prompt_tokens, bool adds_bos, int num_ctx) {
  int64_t keep = num_keep < 0 ? static_cast<int64_t>(prompt_tokens) : int64_t{num_keep} + (adds_bos ? 1 : 0);
  keep = std::min<int64_t>(keep, int64_t{num_ctx} - 1);
  return static_cast<int>(std::max<int64_t>(keep, 0));
}

std::vector<int32_t> cut_prompt(const std::vector<int32_t>& tokens, int num_ctx, int keep) {
  if (num_ctx <= 1) return {};
  keep = std::clamp(keep, 0, num_ctx - 1);
  const size_t limit = static_cast<size_t>(num_ctx - std::max((num_ctx - keep) / 2, 1));
  if (tokens.size() <= limit) return tokens;
  const size_t head = std::min(static_cast<size_t>(keep), limit);
  std::vector<int32_t> out(tokens.begin(), tokens.begin() + static_cast<ptrdiff_t>(head));
  out.insert(out.end(), tokens.end() - static_cast<ptrdiff_t>(limit - head), tokens.end());
  return out;
}

size_t shift_discard(size_t n, int keep) {
  const size_t k = std::min(static_cast<size_t>(std::max(keep, 0)), n);
  return std::max<size_t>((n - k) / 2, 1);
}

}  // namespace hearth::engine
