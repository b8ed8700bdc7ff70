#pragma once
// The Unigram tokenizer (tokenizer.ggml.model "t5": T5, XLM-RoBERTa / bge-m3) as llama.cpp runs
// it: the text is normalized by the vocabulary's precompiled character map (SentencePiece's
// XOR-compressed double-array trie of input prefixes and the strings that replace them), spaces
// become U+2581, then Viterbi picks the segmentation with the highest sum of piece scores. A code
// point no piece covers is <unk>, scored 10 below the lowest normal piece; runs of <unk> are one.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

class UgmEncoder {
 public:
  // Throws Error(corrupt) for a precompiled charsmap whose header does not fit its size.
  explicit UgmEncoder(const Vocab& vocab);

  // `text` is well-formed UTF-8 without special tokens (one fragment between them).
  void encode(std::string_view text, std::vector<TokenId>& out) const;

  // The normalized text Viterbi runs on (spaces as U+2581, the charsmap applied).
  std::string normalize(std::string_view text) const;

 private:
  struct Piece {
    std::string_view text;
    TokenId id;
  };
  // The input bytes a charsmap entry consumes at the start of `s`, and what replaces them.
  std::pair<size_t, std::string_view> charsmap_prefix(std::string_view s) const;
  size_t user_defined_prefix(std::string_view s) const;

  const Vocab& vocab_;
  std::vector<Piece> pieces_;        // normal, user-defined and unused tokens, sorted by text
  std::vector<Piece> user_defined_;  // sorted by text
  std::vector<uint32_t> xcda_;       // the double array's packed nodes
  std::string_view replacements_;    // NUL-terminated strings the nodes point into
  double unknown_score_ = 0;
};

}  // namespace hearth::tokenizer
