#pragma once
// WordPiece (BERT vocabularies, tokenizer.ggml.model "bert") as llama.cpp runs it:
//  1. normalise and split: with strip_accents every code point is mapped to the first code point
//     of its NFD form and combining marks (\p{M}) are dropped; with lowercase it is lower-cased;
//     white space ends a word; NUL, U+FFFD and control/format characters are dropped;
//     punctuation, ASCII symbols and CJK ideographs are words of their own;
//  2. each word, prefixed with U+2581 (the converter stores word-start pieces that way and
//     continuation pieces "##x" as "x"), is cut greedily into the longest tokens from the left;
//     a word with a part no token matches becomes one unknown token.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/token_index.h"
#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class WpmEncoder {
 public:
  WpmEncoder(const Vocab& vocab, const TokenIndex& index);

  // `text` is well-formed UTF-8.
  void encode(std::string_view text, std::vector<TokenId>& out) const;

  // Step 1 alone (exposed for tests): the words, normalised.
  static std::vector<std::string> split_words(std::string_view text, bool lowercase = true,
                                              bool strip_accents = true);

 private:
  void encode_word(const std::string& word, std::vector<TokenId>& out) const;

  const TokenIndex& index_;
  TokenId unk_;
  bool lowercase_, strip_accents_;
  size_t max_token_bytes_ = 0;
};

}  // namespace hearth::tokenizer
