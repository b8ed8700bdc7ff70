#include "ops/rope.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace hearth::ops {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Dimension index where the rotation of wavelength n_rot * 2 pi fits n_ctx_orig (YaRN).
double yarn_corr_dim(int n_dims, int n_ctx_orig, double n_rot, double base) {
  return n_dims * std::log(n_ctx_orig / (n_rot * 2.0 * kPi)) / (2.0 * std::log(base));
}

// Angle and magnitude of pair i at position pos, in double.
void pair_angle(const RopeParams& p, int64_t pos, int i, double* theta_out, double* mscale_out) {
  double theta_extrap =
      static_cast<double>(pos) * std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_dims);
  if (p.freq_factors != nullptr) theta_extrap /= static_cast<double>(p.freq_factors[i]);
  const double theta_interp = static_cast<double>(p.freq_scale) * theta_extrap;
  double theta = theta_interp;
  double mscale = p.attn_factor;
  if (p.ext_factor != 0.0f) {
    const double lo = std::max(
        0.0, std::floor(yarn_corr_dim(p.n_dims, p.n_ctx_orig, p.beta_fast, p.freq_base)));
    const double hi = std::min(
        static_cast<double>(p.n_dims - 1),
        std::ceil(yarn_corr_dim(p.n_dims, p.n_ctx_orig, p.beta_slow, p.freq_base)));
    const double y = (i - lo) / std::max(0.001, hi - lo);
    const double ramp = (1.0 - std::min(1.0, std::max(0.0, y))) * p.ext_factor;
    theta = theta_interp * (1.0 - ramp) + theta_extrap * ramp;
    mscale *= 1.0 + 0.1 * std::log(1.0 / p.freq_scale);
  }
  *theta_out = theta;
  *mscale_out = mscale;
}

// Index of the partner elements of pair i within a head.
inline void pair_index(RopeMode mode, int n_dims, int i, int* a, int* b) {
  if (mode == RopeMode::normal) {
    *a = 2 * i;
    *b = 2 * i + 1;
  } else {
    *a = i;
    *b = i + n_dims / 2;
  }
}

}  // namespace

void rope_angles(const RopeParams& p, int64_t pos, float* cos_sin) {
  for (int i = 0; i < p.n_dims / 2; ++i) {
    double theta, mscale;
    pair_angle(p, pos, i, &theta, &mscale);
    cos_sin[2 * i] = static_cast<float>(std::cos(theta) * mscale);
    cos_sin[2 * i + 1] = static_cast<float>(std::sin(theta) * mscale);
  }
}

void rope(float* x, int n_heads, int64_t head_dim, int64_t pos, const RopeParams& p) {
  const int half = p.n_dims / 2;
  float stack_buf[256];
  std::vector<float> heap_buf;
  float* cs = stack_buf;
  if (2 * half > 256) {
    heap_buf.resize(2 * half);
    cs = heap_buf.data();
  }
  rope_angles(p, pos, cs);
  for (int h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    for (int i = 0; i < half; ++i) {
      int a, b;
      pair_index(p.mode, p.n_dims, i, &a, &b);
      const float x0 = xh[a], x1 = xh[b];
      xh[a] = x0 * cs[2 * i] - x1 * cs[2 * i + 1];
      xh[b] = x0 * cs[2 * i + 1] + x1 * cs[2 * i];
    }
  }
}

void rope_ref(float* x, int n_heads, int64_t head_dim, int64_t pos, const RopeParams& p) {
  for (int h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    for (int i = 0; i < p.n_dims / 2; ++i) {
      double theta, mscale;
      pair_angle(p, pos, i, &theta, &mscale);
      int a, b;
      pair_index(p.mode, p.n_dims, i, &a, &b);
      const double x0 = xh[a], x1 = xh[b];
      xh[a] = static_cast<float>((x0 * std::cos(theta) - x1 * std::sin(theta)) * mscale);
      xh[b] = static_cast<float>((x0 * std::sin(theta) + x1 * std::cos(theta)) * mscale);
    }
  }
}

}  // namespace hearth::ops
