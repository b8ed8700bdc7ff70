#pragma once
// UTF-8 as RFC 3629 defines it, for byte-at-a-time validators.

#include <cstdint>

namespace hearth {

// For a lead byte: how many continuation bytes follow, and the range [lo, hi] the FIRST of them
// must fall in (the narrowed ranges exclude overlong forms and surrogates; later ones are
// 0x80-0xBF). False for bytes that cannot start a multi-byte character (ASCII included).
inline bool utf8_lead(uint8_t b, int* more, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    *more = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    *more = 2;
    if (b == 0xE0) *lo = 0xA0;
    if (b == 0xED) *hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    *more = 3;
    if (b == 0xF0) *lo = 0x90;
    if (b == 0xF4) *hi = 0x8F;
  } else {
    return false;
  }
  return true;
}

}  // namespace hearth
