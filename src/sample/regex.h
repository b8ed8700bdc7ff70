#pragma once
// A small regular-expression engine for JSON schema `pattern`: the pattern is compiled once to a
// DFA over Unicode code points, so that a string can be checked one character at a time (the
// grammar matcher feeds it each decoded character of a JSON string and keeps one state number).
//
// Syntax (ECMAScript, the subset llama.cpp's schema converter translates, and a little more):
// literals; escapes \t \n \r \f \v \0 \xHH \uHHHH and \ before any punctuation; `.` (any code
// point but \n \r U+2028 U+2029); classes [a-z0-9_] and [^...] with ranges and the escapes above
// (\b in a class is backspace); \d \D \w \W \s \S (ASCII: \w = [A-Za-z0-9_], \s = [\t\n\v\f\r ],
// as std::regex has them in the C locale); groups (...) and (?:...); alternation |; quantifiers
// * + ? {m} {m,} {m,n}, each optionally lazy (`?`: the same language); anchors ^ and $
// anywhere (no multiline). Matching has JSON schema's meaning: the pattern may match anywhere in
// the string unless anchored, as regex_search would.
//
// Not supported (compile() says why and returns nullptr; the schema compiler then accepts any
// string): backreferences, lookaround, \b \B word boundaries, named groups, flags, \p{..}, and
// patterns whose DFA would exceed kMaxRegexStates states or whose expansion is too large.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::sample {

inline constexpr size_t kMaxRegexStates = 2048;

class Regex {
 public:
  static constexpr uint32_t kDead = UINT32_MAX;
  static constexpr uint32_t kUnbounded = UINT32_MAX;

  // Compiles `pattern` (UTF-8). nullptr when it is outside the subset or too large; *why (if
  // given) then says what.
  static std::shared_ptr<const Regex> compile(std::string_view pattern, std::string* why = nullptr);

  // The state before any character. Every state a transition returns (other than kDead) can
  // still reach a match.
  uint32_t start() const { return 0; }
  // The state after code point cp, or kDead.
  uint32_t next(uint32_t state, uint32_t cp) const {
    return trans_[static_cast<size_t>(state) * n_classes_ + char_class(cp)];
  }
  bool accepting(uint32_t state) const { return accept_[state] != 0; }
  // The fewest / most code points that lead from `state` to a match (kUnbounded: no limit).
  uint32_t min_remaining(uint32_t state) const { return min_rem_[state]; }
  uint32_t max_remaining(uint32_t state) const { return max_rem_[state]; }
  // Whether `count` code points followed by the completions from `state` can have a length in
  // [min_len, max_len] (as far as the shortest and longest completions tell).
  bool fits(uint32_t state, uint64_t count, uint64_t min_len, uint64_t max_len) const {
    return count + min_rem_[state] <= max_len && (max_rem_[state] == kUnbounded || count + max_rem_[state] >= min_len);
  }
  // Whether some code point in [lo, hi] leads from `state` to a state that fits(count, ...): a
  // character only partly read (a UTF-8 lead byte, half an escape) is still worth reading on.
  bool step_possible(uint32_t state, uint32_t lo, uint32_t hi, uint64_t count, uint64_t min_len,
                     uint64_t max_len) const;
  // The pattern matches nothing at all.
  bool empty() const { return empty_; }
  size_t state_count() const { return accept_.size(); }

  // Whether the pattern matches the UTF-8 text (false for invalid UTF-8). For tests.
  bool matches(std::string_view utf8) const;
  bool matches(std::u32string_view text) const;

 private:
  friend class RegexBuilder;
  uint32_t char_class(uint32_t cp) const;

  std::array<uint16_t, 128> ascii_class_{};
  std::vector<uint32_t> bounds_;  // class k is [bounds_[k], bounds_[k + 1])
  size_t n_classes_ = 0;
  std::vector<uint32_t> trans_;   // state * n_classes_ + class -> state or kDead
  std::vector<uint8_t> accept_;
  std::vector<uint32_t> min_rem_, max_rem_;
  bool empty_ = false;
};

}  // namespace hearth::sample
