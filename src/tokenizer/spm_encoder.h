#pragma once
// SentencePiece-style BPE (Llama 2): start from one symbol per character and repeatedly merge the
// adjacent pair whose concatenation is the token with the highest score (leftmost on ties);
// characters left without a token fall back to <0xNN> byte tokens, then to <unk>.

#include <array>
#include <string_view>
#include <vector>

#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class SpmEncoder {
 public:
  SpmEncoder(const Vocab& vocab, const TokenIndex& index);

  // `text` is already escaped (spaces as U+2581) and well-formed UTF-8.
  void encode(std::string_view text, std::vector<TokenId>& out) const;

 private:
  TokenId mergeable(std::string_view text) const;  // kNoToken unless a token merges may form

  const Vocab& vocab_;
  const TokenIndex& index_;
  std::array<TokenId, 256> byte_token_;
};

}  // namespace hearth::tokenizer
