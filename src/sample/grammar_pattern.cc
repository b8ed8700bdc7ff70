// Strings with a pattern (regex.h): the decoded characters move the pattern's DFA as
// step_string reads them.
#include "sample/grammar_steps.h"

#include <algorithm>
#include <cstdint>

#include "sample/regex.h"

namespace hearth::sample::grammar_internal {

namespace {

// In a string with a pattern, after a byte that leaves a character partly read (a UTF-8 lead or
// continuation byte, a backslash, some digits of a \u escape or of a surrogate pair): whether
// some character those bytes can still become lets the pattern go on. `acc` holds the bits read.
bool pending_char_possible(const GrammarNode& n, const Frame& f, uint32_t state, uint32_t acc) {
  const Regex& re = *n.pattern;
  auto ok = [&](uint32_t lo, uint32_t hi) {
    return re.step_possible(state, lo, hi, f.a, n.min_length, n.max_length);
  };
  switch (f.phase) {
    case kStrUtf8: {
      // The next byte lies in [f.b & 0xFF, f.b >> 8]; f.c bytes are still to come.
      const int rest = 6 * (f.c - 1);
      const uint32_t lo = ((acc << 6) | (f.b & 0x3Fu)) << rest;
      const uint32_t hi = (((acc << 6) | ((f.b >> 8) & 0x3Fu)) << rest) | ((1u << rest) - 1);
      return ok(lo, hi);
    }
    case kStrEsc:  // \u can still spell any character
      return ok(0, 0xD7FF) || ok(0xE000, 0x10FFFF);
    case kStrHex: {
      const int shift = 4 * (4 - f.c);
      if (f.b & kHexLowRequired) {  // the low half of a pair: acc = high half, then low digits
        const uint32_t high = acc >> (4 * f.c), part = acc & ((1u << (4 * f.c)) - 1);
        const uint32_t lo = std::max<uint32_t>(part << shift, 0xDC00);
        const uint32_t hi = std::min<uint32_t>((part << shift) | ((1u << shift) - 1), 0xDFFF);
        const uint32_t base = 0x10000 + ((high - 0xD800) << 10);
        return lo <= hi && ok(base + lo - 0xDC00, base + hi - 0xDC00);
      }
      // A first escape: a character outside the surrogates, or the high half of a pair.
      const uint32_t lo = acc << shift, hi = (acc << shift) | ((1u << shift) - 1);
      if (ok(lo, std::min<uint32_t>(hi, 0xD7FF)) || ok(std::max<uint32_t>(lo, 0xE000), hi)) return true;
      if (lo > 0xDBFF || hi < 0xD800) return false;
      const uint32_t h0 = std::max<uint32_t>(lo, 0xD800), h1 = std::min<uint32_t>(hi, 0xDBFF);
      return ok(0x10000 + ((h0 - 0xD800) << 10), 0x10000 + ((h1 - 0xD800) << 10) + 0x3FF);
    }
    case kStrLowSlash:
    case kStrLowU: {  // a high half read: any low half may follow
      const uint32_t base = 0x10000 + ((acc - 0xD800) << 10);
      return ok(base, base + 0x3FF);
    }
    default:
      return true;
  }
}

}  // namespace

// A string with a pattern: step_string checks the JSON, and each character it completes (a
// UTF-8 sequence or an escape, decoded) moves the pattern's DFA. The closing quote needs an
// accepting state; a character after which no match fits the length bounds is refused.
Step step_pattern_string(const GrammarNode& n, Frame& f, uint8_t b) {
  const Regex& re = *n.pattern;
  uint32_t state = static_cast<uint32_t>(f.h);
  uint32_t acc = static_cast<uint32_t>(f.h >> 32);
  const uint8_t phase = f.phase;
  if (phase == kStrBody && b == '"' && !re.accepting(state)) return Step::reject;
  const Step r = step_string(n, f, b);
  if (r != Step::consume) return r;
  int64_t cp = -1;
  switch (phase) {
    case kStrBody:
      if (b < 0x80) {
        if (b != '\\') cp = b;
      } else {
        acc = b & (0x3Fu >> f.c);  // the lead byte's payload; f.c continuation bytes follow
      }
      break;
    case kStrUtf8:
      acc = (acc << 6) | (b & 0x3Fu);
      if (f.phase == kStrBody) cp = acc;
      break;
    case kStrEsc:
      switch (b) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': acc = 0; break;
        default: cp = b; break;  // " \ /
      }
      break;
    case kStrHex:
      // A surrogate pair accumulates both halves: 0xD83DDE00 for the escapes of U+1F600.
      acc = (acc << 4) | static_cast<uint32_t>(hex_value(b));
      if (f.phase == kStrBody) {
        cp = acc > 0xFFFF ? 0x10000 + (((acc >> 16) - 0xD800) << 10) + ((acc & 0xFFFF) - 0xDC00) : acc;
      }
      break;
    default:  // kStrOpen, and the "\u" between surrogate halves
      break;
  }
  if (cp >= 0) {
    state = re.next(state, static_cast<uint32_t>(cp));
    if (state == Regex::kDead || !re.fits(state, f.a, n.min_length, n.max_length)) return Step::reject;
    acc = 0;
  } else if (!pending_char_possible(n, f, state, acc)) {
    return Step::reject;
  }
  f.h = (static_cast<uint64_t>(acc) << 32) | state;
  return Step::consume;
}

}  // namespace hearth::sample::grammar_internal
