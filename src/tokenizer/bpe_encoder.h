#pragma once
// Byte-level BPE over one pre-tokenized piece: start from one symbol per byte and repeatedly
// apply the best-ranked merge among adjacent pairs (lowest rank, then leftmost), with a priority
// queue so a long piece costs O(n log n).

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class BpeEncoder {
 public:
  // Merges whose parts or result are not tokens cannot produce a token and are dropped.
  BpeEncoder(const Vocab& vocab, const TokenIndex& index);

  // Appends the ids of `piece` (raw bytes). Bytes without a token of their own are dropped, as
  // no id can stand for them.
  void encode(std::string_view piece, std::vector<TokenId>& out) const;

  size_t n_merges() const { return merges_.size(); }

 private:
  struct Merge {
    int32_t rank;
    TokenId result;
  };
  static uint64_t key(TokenId a, TokenId b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  const TokenIndex& index_;
  bool ignore_merges_;
  std::array<TokenId, 256> byte_token_;
  std::unordered_map<uint64_t, Merge> merges_;
};

}  // namespace hearth::tokenizer
