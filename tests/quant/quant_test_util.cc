#include "quant_test_util.h"

#include <cmath>

namespace hearth::quant::testing {

std::vector<float> random_normal(int64_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

std::vector<uint8_t> quantize(GgmlType t, const std::vector<float>& x, CpuTier tier) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(static_cast<size_t>(gguf::row_bytes(t, n)));
  traits(t, tier).from_float(x.data(), q.data(), n);
  return q;
}

std::vector<float> dequantize(GgmlType t, const std::vector<uint8_t>& q, int64_t n, CpuTier tier) {
  std::vector<float> y(static_cast<size_t>(n));
  traits(t, tier).to_float(q.data(), y.data(), n);
  return y;
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return std::sqrt(s / static_cast<double>(x.size()));
}

double rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    s += d * d;
  }
  return std::sqrt(s / static_cast<double>(a.size()));
}

double dot_double(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

double abs_dot_double(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(static_cast<double>(a[i]) * b[i]);
  return s;
}

std::vector<CpuTier> available_tiers() {
  std::vector<CpuTier> tiers;
  for (int t = 0; t <= static_cast<int>(cpu_max_tier()); ++t) tiers.push_back(static_cast<CpuTier>(t));
  return tiers;
}

}  // namespace hearth::quant::testing
