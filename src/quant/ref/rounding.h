#pragma once
// Float-to-int rounding for the quantizers: defined for every input (NaN and infinities clamp
// instead of hitting the undefined float-to-int conversion), since weights come from files.

#include <cmath>

namespace hearth::quant {

// Nearest integer, ties away from zero (exactly roundf's result), clamped to [lo, hi]; NaN gives
// the value nearest 0 in range. Written out rather than calling roundf: on baseline x86-64 that
// is a libm call, and the K-quant scale searches spent a quarter of their time in it.
inline int round_clamp(float v, int lo, int hi) {
  // One select per line (no if, no nested ?:): GCC turns these into vector blends, so loops over
  // round_clamp vectorize.
  v = v != v ? 0.0f : v;
  // Clamped first, so the conversion below is defined; lo - 1 and hi + 1 still clamp right.
  // (Comparisons, not fmin/fmax: those are libm calls here too; NaN is gone already.)
  const float below = static_cast<float>(lo) - 1.0f, above = static_cast<float>(hi) + 1.0f;
  v = v < below ? below : v;
  v = v > above ? above : v;
  // Adding just under one half, then truncating, rounds ties away from zero and everything else
  // to nearest (no branch on the fraction, which is a coin toss on real weights).
  int r = static_cast<int>(v + std::copysign(0.49999997f, v));
  r = r < lo ? lo : r;
  r = r > hi ? hi : r;
  return r;
}

}  // namespace hearth::quant
