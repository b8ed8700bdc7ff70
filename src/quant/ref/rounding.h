#pragma once
// Float-to-int rounding for the quantizers: defined for every input (NaN and infinities clamp
// instead of hitting the undefined float-to-int conversion), since weights come from files.

#include <cmath>

namespace hearth::quant {

// Nearest integer, ties away from zero (roundf), clamped to [lo, hi]; NaN gives the value
// nearest 0 in range.
inline int round_clamp(float v, int lo, int hi) {
  if (v != v) v = 0.0f;
  const float r = std::round(v);
  if (r <= static_cast<float>(lo)) return lo;
  if (r >= static_cast<float>(hi)) return hi;
  return static_cast<int>(r);
}

}  // namespace hearth::quant
