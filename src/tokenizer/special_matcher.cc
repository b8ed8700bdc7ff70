#include "tokenizer/special_matcher.h"

#include <algorithm>
#include <string>

namespace hearth::tokenizer {

SpecialMatcher::SpecialMatcher(const Vocab& vocab) : nodes_(1), lengths_(vocab.tokens.size(), 0) {
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    const TokenType type = vocab.type(static_cast<TokenId>(id));
    if (type != TokenType::control && type != TokenType::user_defined && type != TokenType::unknown) {
      continue;
    }
    const std::string& text = vocab.tokens[id];
    if (text.empty()) continue;
    uint32_t node = 0;
    for (const char ch : text) {
      const auto b = static_cast<uint8_t>(ch);
      uint32_t c = child(node, b);
      if (c == 0) {
        c = static_cast<uint32_t>(nodes_.size());
        nodes_.emplace_back();
        auto& next = nodes_[node].next;
        next.insert(std::lower_bound(next.begin(), next.end(), std::make_pair(b, 0u)), {b, c});
      }
      node = c;
    }
    if (nodes_[node].id == kNoToken) {  // the first of duplicate texts wins
      nodes_[node].id = static_cast<TokenId>(id);
      nodes_[node].needs_parse_special = type != TokenType::user_defined;
    }
    lengths_[id] = static_cast<uint32_t>(text.size());
    first_byte_[static_cast<uint8_t>(text[0])] = true;
  }
}

uint32_t SpecialMatcher::child(uint32_t node, uint8_t b) const {
  const auto& next = nodes_[node].next;
  const auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, 0u));
  return (it != next.end() && it->first == b) ? it->second : 0;
}

std::pair<size_t, TokenId> SpecialMatcher::find(std::string_view text, size_t from,
                                                bool parse_special) const {
  for (size_t start = from; start < text.size(); ++start) {
    if (!first_byte_[static_cast<uint8_t>(text[start])]) continue;
    TokenId best = kNoToken;
    uint32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      node = child(node, static_cast<uint8_t>(text[i]));
      if (node == 0) break;
      const Node& n = nodes_[node];
      if (n.id != kNoToken && (parse_special || !n.needs_parse_special)) best = n.id;
    }
    if (best != kNoToken) return {start, best};
  }
  return {std::string_view::npos, kNoToken};
}

}  // namespace hearth::tokenizer
