#pragma once
// Least-squares scale searches for the K-quant quantizers. Each tries a grid of candidate scales
// around the naive one (extreme value / levels), rounds every element to its nearest level, refits
// the scale (and offset) to those levels by least squares, and keeps the candidate with the
// smallest squared error; a few refinement passes then alternate rounding and refitting until the
// levels stop changing. Plain squared error (no importance weights): what we are judged on is RMSE.

#include <cstdint>

namespace hearth::quant {

// x[i] ~= scale * L[i] - min, L in [0, nmax], min >= 0 (the formats store the offset as an
// unsigned multiple of dmin, so it can only pull values down). Returns scale (>= 0).
float fit_scale_min(const float* x, int n, int nmax, uint8_t* L, float* min);

// x[i] ~= scale * L[i], L in [-nmax, nmax - 1]. Returns scale (either sign: the extra negative
// level can sit on whichever side has the larger extreme).
float fit_scale_sym(const float* x, int n, int nmax, int8_t* L);

// Squared error of x against scale * L - min, with L re-rounded to the nearest level for that
// (scale, min); L receives the levels.
float requantize_scale_min(const float* x, int n, int nmax, float scale, float min, uint8_t* L);
float requantize_sym(const float* x, int n, int nmax, float scale, int8_t* L);

}  // namespace hearth::quant
