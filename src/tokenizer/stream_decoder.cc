#include "tokenizer/stream_decoder.h"

#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

std::string StreamDecoder::push(TokenId id) {
  pending_ += tokenizer_.piece(id, render_special_);
  std::string out;
  out.reserve(pending_.size());
  size_t i = 0;
  while (i < pending_.size()) {
    const Utf8Char c = utf8_decode(pending_.data() + i, pending_.size() - i);
    if (c.status == Utf8Status::incomplete) break;  // wait for the rest of the character
    if (c.status == Utf8Status::ok) {
      out.append(pending_, i, c.len);
    } else {
      utf8_append(out, kReplacementChar);
    }
    i += c.len;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = utf8_sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace hearth::tokenizer
