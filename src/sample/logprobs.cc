#include "sample/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hearth::sample {

Logprobs logprobs_of(std::span<const float> logits, int32_t chosen, int top) {
  auto value = [&](size_t i) {
    const float v = logits[i];
    return std::isnan(v) ? -std::numeric_limits<float>::infinity() : v;
  };
  float max = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) max = std::max(max, value(i));
  double sum = 0.0;
  if (std::isfinite(max)) {
    for (size_t i = 0; i < logits.size(); ++i) sum += std::exp(static_cast<double>(value(i)) - max);
  }
  // log p_i = x_i - max - log(sum exp(x_j - max)); an all -inf row gives -inf everywhere.
  const double log_norm = std::isfinite(max) ? max + std::log(sum) : 0.0;
  auto logprob = [&](size_t i) {
    return std::isfinite(max) ? static_cast<float>(value(i) - log_norm) : -std::numeric_limits<float>::infinity();
  };

  Logprobs out;
  out.chosen.token = chosen;
  if (chosen >= 0 && static_cast<size_t>(chosen) < logits.size()) out.chosen.logprob = logprob(static_cast<size_t>(chosen));
  const size_t k = std::min(static_cast<size_t>(std::max(top, 0)), logits.size());
  if (k == 0) return out;
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  auto before = [&](int32_t a, int32_t b) {
    const float va = value(static_cast<size_t>(a)), vb = value(static_cast<size_t>(b));
    return va != vb ? va > vb : a < b;
  };
  std::partial_sort(ids.begin(), ids.begin() + static_cast<long>(k), ids.end(), before);
  for (size_t i = 0; i < k; ++i) out.top.push_back({ids[i], logprob(static_cast<size_t>(ids[i]))});
  return out;
}

}  // namespace hearth::sample
