#include "tokenizer/utf8.h"

namespace hearth::tokenizer {

Utf8Char utf8_decode(const char* s, size_t n) {
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return {b0, 1, Utf8Status::ok};
  int need;        // continuation bytes after the lead
  uint32_t cp;
  uint8_t lo = 0x80, hi = 0xBF;  // range allowed for the first continuation byte (Table 3-7)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {kReplacementChar, 1, Utf8Status::invalid};
  }
  uint8_t len = 1;
  for (int i = 0; i < need; ++i) {
    if (len >= n) return {kReplacementChar, len, Utf8Status::incomplete};
    const auto b = static_cast<uint8_t>(s[len]);
    if (b < lo || b > hi) return {kReplacementChar, len, Utf8Status::invalid};
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
    ++len;
  }
  return {cp, len, Utf8Status::ok};
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool utf8_is_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Char c = utf8_decode(s.data() + i, s.size() - i);
    if (c.status != Utf8Status::ok) return false;
    i += c.len;
  }
  return true;
}

std::string utf8_sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const Utf8Char c = utf8_decode(s.data() + i, s.size() - i);
    if (c.status == Utf8Status::ok) {
      out.append(s.data() + i, c.len);
    } else {
      utf8_append(out, kReplacementChar);
    }
    i += c.len;
  }
  return out;
}

}  // namespace hearth::tokenizer
