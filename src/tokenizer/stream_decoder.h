#pragma once
// Turns generated tokens into text as they arrive. A token may end inside a multi-byte UTF-8
// character (byte-fallback tokens, byte-level BPE splitting an emoji or CJK character); those
// bytes are held back until the character completes, so every chunk returned is valid UTF-8.

#include <string>

#include "tokenizer/tokenizer.h"

namespace hearth::tokenizer {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool render_special = false)
      : tokenizer_(tokenizer), render_special_(render_special) {}

  // Adds one token and returns the text completed by it (possibly empty). Bytes that can never
  // form a character come out as U+FFFD at once.
  std::string push(TokenId id);

  // Returns what is still held back (an unfinished character, as U+FFFD) and resets.
  std::string finish();

  bool has_pending() const { return !pending_.empty(); }

 private:
  const Tokenizer& tokenizer_;
  bool render_special_;
  std::string pending_;  // bytes of an unfinished character (at most 3)
};

}  // namespace hearth::tokenizer
