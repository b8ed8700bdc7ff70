#include "ops/top_logits.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "util/check.h"

namespace hearth::ops {

void top_logits_ref(const float* logits, int64_t n_rows, int64_t n, int k, float* out) {
  HEARTH_CHECK(k >= 1 && k <= kMaxTopLogits && n >= 1);
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* l = logits + r * n;
    float* o = out + r * top_logits_width(k);
    float max = kNegInf;
    for (int64_t i = 0; i < n; ++i) {
      v[static_cast<size_t>(i)] = std::isnan(l[i]) ? kNegInf : l[i];
      max = std::max(max, v[static_cast<size_t>(i)]);
    }
    double lse = max;
    if (std::isfinite(max)) {
      double sum = 0;
      for (float x : v) sum += std::exp(static_cast<double>(x) - max);
      lse = max + std::log(sum);
    }
    o[0] = max;
    o[1] = static_cast<float>(lse);
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    // Descending value, equal values (-0 == +0 included) by id: a total order, so the first k of
    // a partial sort are those of a stable sort by value.
    const auto kept = order.begin() + std::min<int64_t>(k, n);
    std::partial_sort(order.begin(), kept, order.end(), [&](int32_t a, int32_t b) {
      const float va = v[static_cast<size_t>(a)], vb = v[static_cast<size_t>(b)];
      return va > vb || (va == vb && a < b);
    });
    for (int i = 0; i < k; ++i) {
      const bool real = i < n;
      const int32_t id = real ? order[static_cast<size_t>(i)] : -1;
      o[2 + i] = real ? v[static_cast<size_t>(id)] : kNegInf;
      std::memcpy(o + 2 + k + i, &id, sizeof id);
    }
  }
}

}  // namespace hearth::ops
