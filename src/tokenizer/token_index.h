#pragma once
// Exact text -> id lookup over a vocabulary's token strings, without copying the query.

#include <string>
#include <string_view>
#include <unordered_map>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using TokenIndex = std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>>;

inline TokenId find_token(const TokenIndex& index, std::string_view text) {
  const auto it = index.find(text);
  return it == index.end() ? kNoToken : it->second;
}

}  // namespace hearth::tokenizer
