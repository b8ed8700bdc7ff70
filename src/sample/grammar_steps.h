#pragma once
// Internal to grammar*.cc (not part of the folder's interface): the frame phases and the
// per-kind step functions the matcher's files share. grammar.cc drives the stacks and steps
// the JSON kinds; grammar_pattern.cc steps strings with a pattern, grammar_int_bounds.cc
// integers with bounds; grammar_graph.cc builds the Grammar.

#include <cstdint>
#include <string_view>

#include "sample/grammar.h"

namespace hearth::sample::grammar_internal {

using Frame = GrammarMatcher::Frame;
static_assert(sizeof(Frame) == 24, "frames are compared with memcmp: no padding");

constexpr uint32_t kDocument = UINT32_MAX;

// Phases of each frame kind.
enum : uint8_t { kDocBefore = 0, kDocAfter = 1 };
enum : uint8_t {
  kObjOpen = 0,
  kObjFirst,       // after '{'
  kObjKey,         // inside a declared key literal; b = property, c = bytes matched
  kObjAfterKey,    // before ':'; b = property
  kObjAfterExtraKey,
  kObjBeforeValue,  // after ':'; b = property
  kObjBeforeExtraValue,
  kObjAfterValue,  // before ',' or '}'
  kObjBeforeKey,   // after ','
};
enum : uint8_t { kArrOpen = 0, kArrFirst, kArrAfterItem, kArrBeforeItem };
enum : uint8_t { kStrOpen = 0, kStrBody, kStrUtf8, kStrEsc, kStrHex, kStrLowSlash, kStrLowU };
enum : uint8_t {
  kNumStart = 0,
  kNumMinus,
  kNumZero,  // terminal
  kNumInt,   // terminal
  kNumFrac0,
  kNumFrac,  // terminal
  kNumExp0,
  kNumExpSign,
  kNumExp,   // terminal
};

// Escape flags in a kStrHex frame's b.
constexpr uint32_t kHexLowRequired = 1, kHexFirstD = 2, kHexHigh = 4;

// Two exponent digits keep every number finite as a double (strict parsers reject overflow).
constexpr int kIntDigits = 16, kFracDigits = 16, kExpDigits = 2;

constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;

inline uint64_t fnv(std::string_view bytes) {
  uint64_t h = kFnvBasis;
  for (char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * kFnvPrime;
  return h;
}

enum class Step { reject, consume, consume_pop, pop, push, key_fork };

inline bool is_ws(uint8_t b) { return b == ' ' || b == '\n' || b == '\t' || b == '\r'; }
inline bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
inline int hex_value(uint8_t b) {
  if (b >= '0' && b <= '9') return b - '0';
  if (b >= 'a' && b <= 'f') return b - 'a' + 10;
  if (b >= 'A' && b <= 'F') return b - 'A' + 10;
  return -1;
}

// What one byte does to the top frame of a stack (grammar.cc applies it).
Step step_string(const GrammarNode& n, Frame& f, uint8_t b);
Step step_number(const GrammarNode& n, Frame& f, uint8_t b);
Step step_pattern_string(const GrammarNode& n, Frame& f, uint8_t b);  // grammar_pattern.cc
Step step_bounded_int(const GrammarNode& n, Frame& f, uint8_t b);     // grammar_int_bounds.cc
// A bounded integer's value read so far lies within its bounds.
bool in_bounds(const GrammarNode& n, const Frame& f);                 // grammar_int_bounds.cc

}  // namespace hearth::sample::grammar_internal
