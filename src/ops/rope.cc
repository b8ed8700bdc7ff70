#include "ops/rope.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/activation_kernels.h"
#include "util/thread_pool.h"

namespace hearth::ops {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Dimension index where the rotation of wavelength n_rot * 2 pi fits n_ctx_orig (YaRN).
double yarn_corr_dim(int n_dims, int n_ctx_orig, double n_rot, double base) {
  return n_dims * std::log(n_ctx_orig / (n_rot * 2.0 * kPi)) / (2.0 * std::log(base));
}

// What the angle of pair i needs besides the position, computed once per call (the same double
// operations as pair_angle below, so the fast path's angles are bit-identical to the spec's).
struct AngleSetup {
  std::vector<double> freq;  // base^(-2i / n_dims)
  double lo = 0.0, hi = 0.0;
};

AngleSetup angle_setup(const RopeParams& p) {
  AngleSetup a;
  a.freq.resize(static_cast<size_t>(p.n_dims / 2));
  for (int i = 0; i < p.n_dims / 2; ++i) {
    a.freq[i] = std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_dims);
  }
  if (p.ext_factor != 0.0f) {
    a.lo = std::max(0.0, std::floor(yarn_corr_dim(p.n_dims, p.n_ctx_orig, p.beta_fast, p.freq_base)));
    a.hi = std::min(static_cast<double>(p.n_dims - 1),
                    std::ceil(yarn_corr_dim(p.n_dims, p.n_ctx_orig, p.beta_slow, p.freq_base)));
  }
  return a;
}

void angle(const RopeParams& p, const AngleSetup& a, int64_t pos, int i, double* theta_out,
           double* mscale_out) {
  double theta_extrap = static_cast<double>(pos) * a.freq[i];
  if (p.freq_factors != nullptr) theta_extrap /= static_cast<double>(p.freq_factors[i]);
  const double theta_interp = static_cast<double>(p.freq_scale) * theta_extrap;
  double theta = theta_interp;
  double mscale = p.attn_factor;
  if (p.ext_factor != 0.0f) {
    const double y = (i - a.lo) / std::max(0.001, a.hi - a.lo);
    const double ramp = (1.0 - std::min(1.0, std::max(0.0, y))) * p.ext_factor;
    theta = theta_interp * (1.0 - ramp) + theta_extrap * ramp;
    mscale *= 1.0 + 0.1 * std::log(1.0 / p.freq_scale);
  }
  *theta_out = theta;
  *mscale_out = mscale;
}

// The specification's angle of pair i, straight from the definition.
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

// The rotation operands of one position in the layout rope_rotate wants (activation_kernels.h):
// ab[0, n_dims) = a, ab[n_dims, 2 n_dims) = b.
void fill_operands(const RopeParams& p, const AngleSetup& a, int64_t pos, float* ab) {
  const int half = p.n_dims / 2;
  float* av = ab;
  float* bv = ab + p.n_dims;
  for (int i = 0; i < half; ++i) {
    double theta, mscale;
    angle(p, a, pos, i, &theta, &mscale);
    const float c = static_cast<float>(std::cos(theta) * mscale);
    const float s = static_cast<float>(std::sin(theta) * mscale);
    if (p.mode == RopeMode::neox) {
      av[i] = c;
      bv[i] = s;
    } else {
      av[2 * i] = av[2 * i + 1] = c;
      bv[2 * i] = -s;
      bv[2 * i + 1] = s;
    }
  }
}

bool same_params(const RopeParams& a, const RopeParams& b, const std::vector<float>& b_factors) {
  if (a.mode != b.mode || a.n_dims != b.n_dims || a.freq_base != b.freq_base ||
      a.freq_scale != b.freq_scale || a.ext_factor != b.ext_factor ||
      a.attn_factor != b.attn_factor || a.beta_fast != b.beta_fast ||
      a.beta_slow != b.beta_slow || a.n_ctx_orig != b.n_ctx_orig ||
      (a.freq_factors == nullptr) != (b.freq_factors == nullptr)) {
    return false;
  }
  return a.freq_factors == nullptr ||
         std::equal(b_factors.begin(), b_factors.end(), a.freq_factors);
}

// The operands of the last batch of positions this thread rotated: every layer of a forward pass
// rotates q and k at the same positions, so they are computed once per pass, not 2 x n_layer
// times. Compared by value (parameters, frequency factors and positions), never by address.
struct OperandCache {
  bool valid = false;
  RopeParams params;
  std::vector<float> factors;
  std::vector<int32_t> pos;
  std::vector<float> ab;  // [n_tok, 2 * n_dims]
};

const float* batch_operands(const RopeParams& p, const int32_t* pos, int64_t n_tok) {
  static thread_local OperandCache cache;
  OperandCache& c = cache;
  if (c.valid && same_params(p, c.params, c.factors) &&
      static_cast<int64_t>(c.pos.size()) == n_tok && std::equal(c.pos.begin(), c.pos.end(), pos)) {
    return c.ab.data();
  }
  c.valid = false;
  c.params = p;
  c.factors.assign(p.freq_factors, p.freq_factors == nullptr ? nullptr : p.freq_factors + p.n_dims / 2);
  c.params.freq_factors = nullptr;
  c.pos.assign(pos, pos + n_tok);
  const int64_t width = 2 * static_cast<int64_t>(p.n_dims);
  c.ab.resize(static_cast<size_t>(n_tok * width));
  const AngleSetup setup = angle_setup(p);
  float* ab = c.ab.data();
  if (n_tok < 8) {
    for (int64_t t = 0; t < n_tok; ++t) fill_operands(p, setup, pos[t], ab + t * width);
  } else {
    global_thread_pool().parallel_for(n_tok, 4, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t) fill_operands(p, setup, pos[t], ab + t * width);
    });
  }
  c.params.freq_factors = p.freq_factors;  // compared by the copy in factors
  c.valid = true;
  return ab;
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
  if (p.n_dims < 2) return;
  std::vector<float> ab(static_cast<size_t>(2 * p.n_dims));
  fill_operands(p, angle_setup(p), pos, ab.data());
  activation_kernels(cpu_tier())
      .rope_rotate(x, n_heads, head_dim, p.n_dims, p.mode == RopeMode::neox, ab.data(), ab.data() + p.n_dims);
}

void rope_batch(float* x, int64_t n_tok, int n_heads, int64_t head_dim, const int32_t* pos,
                const RopeParams& p) {
  if (n_tok <= 0 || p.n_dims < 2) return;
  const ActivationKernels& k = activation_kernels(cpu_tier());
  const float* ab = batch_operands(p, pos, n_tok);
  const int64_t width = 2 * static_cast<int64_t>(p.n_dims);
  const int64_t stride = n_heads * head_dim;
  const bool neox = p.mode == RopeMode::neox;
  auto rotate = [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) {
      const float* a = ab + t * width;
      k.rope_rotate(x + t * stride, n_heads, head_dim, p.n_dims, neox, a, a + p.n_dims);
    }
  };
  if (n_tok * stride < 32768) {
    rotate(0, n_tok, 0);
  } else {
    global_thread_pool().parallel_for(n_tok, 8, rotate);
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
