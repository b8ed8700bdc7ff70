#include "quant/ref/scale_search.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "quant/ref/rounding.h"

namespace hearth::quant {
namespace {

constexpr int kMaxN = 32;
constexpr int kRefinePasses = 4;

// Every loop below is written once as a template on the element count: N = 16 or 32 (what the
// K-quant formats use) lets the compiler vectorize the element-wise loops at -O2, N = 0 takes the
// count at run time. Sums stay plain loops in element order, so every N gives the same bits.

// Least squares of x ~= s * L + b with b <= 0. Returns false when L is constant (no fit). `sx` is
// the sum of x (the same for every candidate L, so the caller sums it once); the sums of L and
// L^2 are exact in integers.
template <int N>
bool fit_affine(const float* x, double sx, const uint8_t* L, int n, float* s, float* b) {
  const int count = N > 0 ? N : n;
  int sl = 0, sll = 0;
  double slx = 0;
  for (int i = 0; i < count; ++i) {
    sl += L[i];
    sll += L[i] * L[i];
    slx += L[i] * static_cast<double>(x[i]);
  }
  const double det = static_cast<double>(count) * sll - static_cast<double>(sl) * sl;
  if (det <= 0) return false;
  double scale = (count * slx - sl * sx) / det;
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

template <int N>
float requantize_scale_min_n(const float* __restrict x, int n, int nmax, float scale, float min,
                             uint8_t* __restrict L) {
  const int count = N > 0 ? N : n;
  const float inv = scale > 0 ? 1.0f / scale : 0.0f;
  float sq[kMaxN];
  for (int i = 0; i < count; ++i) {
    const int l = round_clamp((x[i] + min) * inv, 0, nmax);
    L[i] = static_cast<uint8_t>(l);
    const float diff = scale * static_cast<float>(l) - min - x[i];
    sq[i] = diff * diff;
  }
  float err = 0;
  for (int i = 0; i < count; ++i) err += sq[i];
  return err;
}

template <int N>
float requantize_sym_n(const float* __restrict x, int n, int nmax, float scale, int8_t* __restrict L) {
  const int count = N > 0 ? N : n;
  const float inv = scale != 0 ? 1.0f / scale : 0.0f;
  float sq[kMaxN];
  for (int i = 0; i < count; ++i) {
    const int l = round_clamp(x[i] * inv, -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l);
    const float diff = scale * static_cast<float>(l) - x[i];
    sq[i] = diff * diff;
  }
  float err = 0;
  for (int i = 0; i < count; ++i) err += sq[i];
  return err;
}

template <int N>
float fit_scale_min_n(const float* __restrict x, int n, int nmax, uint8_t* __restrict L, float* min) {
  const int count = N > 0 ? N : n;
  float lo = 0, hi = x[0];  // lo starts at 0: the offset may not be positive
  for (int i = 0; i < count; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (!(hi > lo)) {  // all zero, or NaN
    for (int i = 0; i < count; ++i) L[i] = 0;
    *min = lo == lo ? -lo : 0.0f;
    return 0.0f;
  }
  // The naive fit maps [lo, hi] onto [0, nmax]. Candidates stretch it by -1 .. +1.2 levels: a
  // shrunk scale clips the extremes but resolves the bulk better.
  float best_err = std::numeric_limits<float>::infinity();
  float best_s = (hi - lo) / static_cast<float>(nmax), best_b = lo;
  double sx = 0;
  for (int i = 0; i < count; ++i) sx += x[i];
  uint8_t cand[kMaxN], prev[kMaxN];
  bool have_prev = false;
  for (int k = -10; k <= 12; ++k) {
    const float iscale = (static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / (hi - lo);
    for (int i = 0; i < count; ++i) cand[i] = static_cast<uint8_t>(round_clamp((x[i] - lo) * iscale, 0, nmax));
    // Neighbouring stretches often round every element alike; the same levels give the same fit
    // and error, which cannot beat the best (a tie keeps the earlier), so skip the work.
    if (have_prev && std::memcmp(cand, prev, static_cast<size_t>(count)) == 0) continue;
    std::memcpy(prev, cand, static_cast<size_t>(count));
    have_prev = true;
    float s, b;
    if (!fit_affine<N>(x, sx, cand, n, &s, &b)) continue;
    const float err = requantize_scale_min_n<N>(x, n, nmax, s, -b, cand);
    if (err < best_err) {
      best_err = err;
      best_s = s;
      best_b = b;
    }
  }
  float err = requantize_scale_min_n<N>(x, n, nmax, best_s, -best_b, L);
  for (int pass = 0; pass < kRefinePasses; ++pass) {
    float s, b;
    if (!fit_affine<N>(x, sx, L, n, &s, &b)) break;
    const float e = requantize_scale_min_n<N>(x, n, nmax, s, -b, cand);
    if (!(e < err)) break;
    err = e;
    best_s = s;
    best_b = b;
    for (int i = 0; i < count; ++i) L[i] = cand[i];
  }
  *min = -best_b;
  return best_s;
}

// Least-squares numerator and denominator of the scale for levels L: sum L*x (in element order)
// and sum L^2 (exact).
template <int N>
void level_sums(const float* x, const int8_t* L, int n, double* slx, int* sll) {
  const int count = N > 0 ? N : n;
  double a = 0;
  int q = 0;
  for (int i = 0; i < count; ++i) {
    a += L[i] * static_cast<double>(x[i]);
    q += L[i] * L[i];
  }
  *slx = a;
  *sll = q;
}

template <int N>
float fit_scale_sym_n(const float* __restrict x, int n, int nmax, int8_t* __restrict L) {
  const int count = N > 0 ? N : n;
  float max = 0, amax = 0;
  for (int i = 0; i < count; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (!(amax > 0)) {
    for (int i = 0; i < count; ++i) L[i] = 0;
    return 0.0f;
  }
  // Either the extreme takes the extra negative level (-nmax) or the positive top (nmax - 1);
  // each side's candidates stretch that by -1 .. +1 levels.
  float best_score = -1, best_scale = 0;
  int8_t cand[kMaxN], prev[kMaxN];
  bool have_prev = false;
  for (int side = 0; side < 2; ++side) {
    const float top = side == 0 ? -static_cast<float>(nmax) : static_cast<float>(nmax - 1);
    for (int k = -10; k <= 10; ++k) {
      const float target = top + (top < 0 ? -0.1f : 0.1f) * static_cast<float>(k);
      const float iscale = target / max;
      for (int i = 0; i < count; ++i) cand[i] = static_cast<int8_t>(round_clamp(x[i] * iscale, -nmax, nmax - 1));
      // As in fit_scale_min: the same levels score the same, and a tie keeps the earlier.
      if (have_prev && std::memcmp(cand, prev, static_cast<size_t>(count)) == 0) continue;
      std::memcpy(prev, cand, static_cast<size_t>(count));
      have_prev = true;
      double slx;
      int sll;
      level_sums<N>(x, cand, n, &slx, &sll);
      // Error at the best scale for these levels is sum x^2 - slx^2 / sll.
      if (sll <= 0) continue;
      const double score = slx * slx / sll;
      if (score > best_score) {
        best_score = score;
        best_scale = static_cast<float>(slx / sll);
      }
    }
  }
  float err = requantize_sym_n<N>(x, n, nmax, best_scale, L);
  for (int pass = 0; pass < kRefinePasses; ++pass) {
    double slx;
    int sll;
    level_sums<N>(x, L, n, &slx, &sll);
    if (sll <= 0) break;
    const float s = static_cast<float>(slx / sll);
    const float e = requantize_sym_n<N>(x, n, nmax, s, cand);
    if (!(e < err)) break;
    err = e;
    best_scale = s;
    for (int i = 0; i < count; ++i) L[i] = cand[i];
  }
  return best_scale;
}

}  // namespace

float requantize_scale_min(const float* x, int n, int nmax, float scale, float min, uint8_t* L) {
  if (n == 32) return requantize_scale_min_n<32>(x, n, nmax, scale, min, L);
  if (n == 16) return requantize_scale_min_n<16>(x, n, nmax, scale, min, L);
  return requantize_scale_min_n<0>(x, n, nmax, scale, min, L);
}

float requantize_sym(const float* x, int n, int nmax, float scale, int8_t* L) {
  if (n == 32) return requantize_sym_n<32>(x, n, nmax, scale, L);
  if (n == 16) return requantize_sym_n<16>(x, n, nmax, scale, L);
  return requantize_sym_n<0>(x, n, nmax, scale, L);
}

float fit_scale_min(const float* x, int n, int nmax, uint8_t* L, float* min) {
  if (n == 32) return fit_scale_min_n<32>(x, n, nmax, L, min);
  if (n == 16) return fit_scale_min_n<16>(x, n, nmax, L, min);
  return fit_scale_min_n<0>(x, n, nmax, L, min);
}

float fit_scale_sym(const float* x, int n, int nmax, int8_t* L) {
  if (n == 32) return fit_scale_sym_n<32>(x, n, nmax, L);
  if (n == 16) return fit_scale_sym_n<16>(x, n, nmax, L);
  return fit_scale_sym_n<0>(x, n, nmax, L);
}

}  // namespace hearth::quant
