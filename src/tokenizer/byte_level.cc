#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace hearth::tokenizer {
namespace {

// Printable Latin-1 bytes stand for themselves; the other 68 bytes take U+0100.. in byte order.
bool stands_for_itself(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

struct Alphabet {
  std::array<std::string, 256> symbol;
  std::array<int16_t, 0x144> byte_of;  // code point -> byte, -1 if not in the alphabet
  Alphabet() {
    byte_of.fill(-1);
    int next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = stands_for_itself(b) ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++);
      utf8_append(symbol[b], cp);
      byte_of[cp] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

const std::string& byte_to_symbol(uint8_t b) { return alphabet().symbol[b]; }

std::string byte_level_decode(std::string_view text) {
  const Alphabet& a = alphabet();
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const Utf8Char c = utf8_decode(text.data() + i, text.size() - i);
    if (c.status == Utf8Status::ok && c.cp < a.byte_of.size() && a.byte_of[c.cp] >= 0) {
      out += static_cast<char>(a.byte_of[c.cp]);
    } else {
      out.append(text.data() + i, c.len);
    }
    i += c.len;
  }
  return out;
}

}  // namespace hearth::tokenizer
