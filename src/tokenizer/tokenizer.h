#pragma once
// Text <-> token ids for one vocabulary. Built once from a Vocab (validated here), then used
// concurrently: every method is const and thread-safe.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace hearth::tokenizer {

struct EncodeOptions {
  // Add BOS/EOS where the vocabulary's add_bos/add_eos flags ask for them.
  bool add_special = false;
  // Recognise control tokens (and <unk>) written in the text, e.g. "<|im_start|>". User-defined
  // tokens (Qwen3's "<think>") are always recognised, as in the reference tokenizers.
  bool parse_special = false;
};

class Tokenizer {
 public:
  // Throws Error(corrupt) when the vocabulary is inconsistent (sizes, ids out of range).
  explicit Tokenizer(Vocab vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Ill-formed UTF-8 in `text` is read as U+FFFD (one per maximal ill-formed subsequence).
  // Throws Error(invalid_argument) for text over 1 GiB.
  std::vector<TokenId> encode(std::string_view text, EncodeOptions options = {}) const;
  void encode(std::string_view text, EncodeOptions options, std::vector<TokenId>& out) const;

  // The bytes a token stands for in generated text: byte-level decoded (BPE) or with U+2581 as a
  // space and <0xNN> as its byte (SPM). Control and unknown tokens give their text only when
  // `render_special`; unused tokens and ids out of range give nothing. A piece may end inside a
  // multi-byte character: StreamDecoder reassembles those.
  std::string_view piece(TokenId id, bool render_special = false) const;

  // The concatenated pieces with ill-formed UTF-8 replaced by U+FFFD. For SPM vocabularies with
  // add_space_prefix, the space that encoding added in front of the text is removed.
  std::string decode(std::span<const TokenId> ids, bool render_special = false) const;

  const Vocab& vocab() const;
  size_t n_tokens() const;
  TokenId token_id(std::string_view text) const;  // exact text lookup; kNoToken if absent
  bool is_control(TokenId id) const;              // control or unknown: hidden unless rendered
  bool is_end_of_generation(TokenId id) const;    // eos, eot, eom

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::tokenizer
