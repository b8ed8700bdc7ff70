#pragma once
// Finds special tokens (control, user-defined, unknown) written in text: a byte trie over their
// texts, matched leftmost-longest as the Hugging Face added-token splitter does.

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class SpecialMatcher {
 public:
  explicit SpecialMatcher(const Vocab& vocab);

  // The first special token in text[from..): {offset, id}, or {npos, kNoToken}. Control and
  // unknown tokens count only when `parse_special`; user-defined ones always.
  std::pair<size_t, TokenId> find(std::string_view text, size_t from, bool parse_special) const;

  // Length of the token found by find() (its text size).
  size_t length(TokenId id) const { return lengths_[static_cast<size_t>(id)]; }

  bool empty() const { return nodes_.size() == 1; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> next;  // sorted by byte
    TokenId id = kNoToken;
    bool needs_parse_special = false;
  };
  uint32_t child(uint32_t node, uint8_t b) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> lengths_;
  bool first_byte_[256] = {};
};

}  // namespace hearth::tokenizer
