// Integers with minimum/maximum bounds: step_number reads the digits, and a digit is refused as
// soon as no in-range integer can follow from it.
#include "sample/grammar_steps.h"

#include <cstdint>

namespace hearth::sample::grammar_internal {

namespace {

int64_t bounded_value(const Frame& f) {
  return f.b ? -static_cast<int64_t>(f.h) : static_cast<int64_t>(f.h);
}

// Whether some integer that starts with the digits read so far (magnitude `mag`, `digits` of
// them) is within the bounds: mag itself, or mag followed by k more digits, which spans
// [mag * 10^k, mag * 10^k + 10^k - 1] (no more digits after a leading 0).
bool int_reachable(const GrammarNode& n, bool negative, uint64_t mag, int digits) {
  uint64_t lo = mag, span = 1;
  for (int d = digits;; ++d) {
    const int64_t a = static_cast<int64_t>(lo), z = static_cast<int64_t>(lo + span - 1);
    const int64_t vmin = negative ? -z : a, vmax = negative ? -a : z;
    if (vmin <= n.max_value && vmax >= n.min_value) return true;
    if (mag == 0 || d >= kIntDigits) return false;
    lo *= 10;
    span *= 10;
  }
}

}  // namespace

bool in_bounds(const GrammarNode& n, const Frame& f) {
  const int64_t v = bounded_value(f);
  return v >= n.min_value && v <= n.max_value;
}

Step step_bounded_int(const GrammarNode& n, Frame& f, uint8_t b) {
  const Step r = step_number(n, f, b);
  if (r == Step::pop) return in_bounds(n, f) ? Step::pop : Step::reject;
  if (r != Step::consume) return r;
  if (f.phase == kNumMinus) {
    f.b = 1;
    return n.min_value < 0 ? Step::consume : Step::reject;
  }
  f.h = f.h * 10 + (b - '0');
  return int_reachable(n, f.b != 0, f.h, f.c) ? Step::consume : Step::reject;
}

}  // namespace hearth::sample::grammar_internal
