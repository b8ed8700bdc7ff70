#pragma once
// Streaming parsers hold back text that may still become a tag when the next piece arrives.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace hearth::chat {

// Length of the longest suffix of `text` that is a proper prefix of `tag` (0 if none).
inline size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n) {
    if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace hearth::chat
