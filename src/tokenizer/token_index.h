#pragma once
// Exact text -> id lookup over a vocabulary's token strings, without copying the query.

#include <string_view>
#include <unordered_map>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

// Keys view into the Vocab's token strings, which the owner keeps unchanged for the index's life.
using TokenIndex = std::unordered_map<std::string_view, TokenId>;

inline TokenId find_token(const TokenIndex& index, std::string_view text) {
  const auto it = index.find(text);
  return it == index.end() ? kNoToken : it->second;
}

}  // namespace hearth::tokenizer
