#pragma once
// UTF-8 decoding with the Unicode "maximal subpart" rule for ill-formed input (the rule of the
// WHATWG TextDecoder, Python's errors="replace" and Rust's from_utf8_lossy): each maximal
// subpart of an ill-formed sequence becomes one U+FFFD. Tokenizers replace before splitting, so
// the pre-tokenizers and the reference implementations see the same code points.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::tokenizer {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

enum class Utf8Status : uint8_t {
  ok,          // a well-formed character
  invalid,     // an ill-formed subsequence of `len` bytes (replace with U+FFFD)
  incomplete,  // the input ends inside a character that is well-formed so far (`len` bytes)
};

struct Utf8Char {
  uint32_t cp;  // the code point, or kReplacementChar unless ok
  uint8_t len;  // bytes consumed, >= 1
  Utf8Status status;
};

// Decodes the character at s[0..n), n >= 1.
Utf8Char utf8_decode(const char* s, size_t n);

// Appends the UTF-8 encoding of cp (cp <= 0x10FFFF, not a surrogate).
void utf8_append(std::string& out, uint32_t cp);

bool utf8_is_valid(std::string_view s);

// s with every ill-formed subsequence (incomplete trailing characters included) replaced by
// U+FFFD.
std::string utf8_sanitize(std::string_view s);

}  // namespace hearth::tokenizer
