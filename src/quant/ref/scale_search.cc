#include "quant/ref/scale_search.h"

#include <cmath>
#include <limits>

#include "quant/ref/rounding.h"

namespace hearth::quant {
namespace {

constexpr int kMaxN = 32;
constexpr int kRefinePasses = 4;

// Least squares of x ~= s * L + b with b <= 0. Returns false when L is constant (no fit).
bool fit_affine(const float* x, const uint8_t* L, int n, float* s, float* b) {
  double sl = 0, sll = 0, sx = 0, slx = 0;
  for (int i = 0; i < n; ++i) {
    sl += L[i];
    sll += L[i] * L[i];
    sx += x[i];
    slx += L[i] * static_cast<double>(x[i]);
  }
  const double det = n * sll - sl * sl;
  if (det <= 0) return false;
  double scale = (n * slx - sl * sx) / det;
  double offset = (sll * sx - sl * slx) / det;
  if (offset > 0) {
    offset = 0;
    scale = slx / sll;
  }
  if (scale <= 0) return false;
  *s = static_cast<float>(scale);
  *b = static_cast<float>(offset);
  return true;
}

}  // namespace

float requantize_scale_min(const float* x, int n, int nmax, float scale, float min, uint8_t* L) {
  const float inv = scale > 0 ? 1.0f / scale : 0.0f;
  // Two loops: the element-wise one vectorizes; the sum stays in element order, so the result is
  // the same to the bit as one scalar loop's.
  float sq[kMaxN];
  for (int i = 0; i < n; ++i) {
    const int l = round_clamp((x[i] + min) * inv, 0, nmax);
    L[i] = static_cast<uint8_t>(l);
    const float diff = scale * static_cast<float>(l) - min - x[i];
    sq[i] = diff * diff;
  }
  float err = 0;
  for (int i = 0; i < n; ++i) err += sq[i];
  return err;
}

float requantize_sym(const float* x, int n, int nmax, float scale, int8_t* L) {
  float err = 0;
  const float inv = scale != 0 ? 1.0f / scale : 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = round_clamp(x[i] * inv, -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l);
    const float diff = scale * static_cast<float>(l) - x[i];
    err += diff * diff;
  }
  return err;
}

float fit_scale_min(const float* x, int n, int nmax, uint8_t* L, float* min) {
  float lo = 0, hi = x[0];  // lo starts at 0: the offset may not be positive
  for (int i = 0; i < n; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (!(hi > lo)) {  // all zero, or NaN
    for (int i = 0; i < n; ++i) L[i] = 0;
    *min = lo == lo ? -lo : 0.0f;
    return 0.0f;
  }
  // The naive fit maps [lo, hi] onto [0, nmax]. Candidates stretch it by -1 .. +1.2 levels: a
  // shrunk scale clips the extremes but resolves the bulk better.
  float best_err = std::numeric_limits<float>::infinity();
  float best_s = (hi - lo) / static_cast<float>(nmax), best_b = lo;
  uint8_t cand[kMaxN];
  for (int k = -10; k <= 12; ++k) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / (hi - lo);
    for (int i = 0; i < n; ++i) cand[i] = static_cast<uint8_t>(round_clamp((x[i] - lo) * iscale, 0, nmax));
    float s, b;
    if (!fit_affine(x, cand, n, &s, &b)) continue;
    const float err = requantize_scale_min(x, n, nmax, s, -b, cand);
    if (err < best_err) {
      best_err = err;
      best_s = s;
      best_b = b;
    }
  }
  float err = requantize_scale_min(x, n, nmax, best_s, -best_b, L);
  for (int pass = 0; pass < kRefinePasses; ++pass) {
    float s, b;
    if (!fit_affine(x, L, n, &s, &b)) break;
    const float e = requantize_scale_min(x, n, nmax, s, -b, cand);
    if (!(e < err)) break;
    err = e;
    best_s = s;
    best_b = b;
    for (int i = 0; i < n; ++i) L[i] = cand[i];
  }
  *min = -best_b;
  return best_s;
}

float fit_scale_sym(const float* x, int n, int nmax, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (!(amax > 0)) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  // Either the extreme takes the extra negative level (-nmax) or the positive top (nmax - 1);
  // each side's candidates stretch that by -1 .. +1 levels.
  float best_score = -1, best_scale = 0;
  int8_t cand[kMaxN];
  for (int side = 0; side < 2; ++side) {
    const float top = side == 0 ? -static_cast<float>(nmax) : static_cast<float>(nmax - 1);
    for (int k = -10; k <= 10; ++k) {
      const float target = top + (top < 0 ? -0.1f : 0.1f) * static_cast<float>(k);
      const float iscale = target / max;
      double slx = 0, sll = 0;
      for (int i = 0; i < n; ++i) {
        const int l = round_clamp(x[i] * iscale, -nmax, nmax - 1);
        slx += l * static_cast<double>(x[i]);
        sll += l * l;
      }
      // Error at the best scale for these levels is sum x^2 - slx^2 / sll.
      if (sll <= 0) continue;
      const double score = slx * slx / sll;
      if (score > best_score) {
        best_score = score;
        best_scale = static_cast<float>(slx / sll);
      }
    }
  }
  float err = requantize_sym(x, n, nmax, best_scale, L);
  for (int pass = 0; pass < kRefinePasses; ++pass) {
    double slx = 0, sll = 0;
    for (int i = 0; i < n; ++i) {
      slx += L[i] * static_cast<double>(x[i]);
      sll += L[i] * L[i];
    }
    if (sll <= 0) break;
    const float s = static_cast<float>(slx / sll);
    const float e = requantize_sym(x, n, nmax, s, cand);
    if (!(e < err)) break;
    err = e;
    best_scale = s;
    for (int i = 0; i < n; ++i) L[i] = cand[i];
  }
  return best_scale;
}

}  // namespace hearth::quant
