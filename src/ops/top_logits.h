#pragma once
// The best logits of each row, for sampling without reading whole rows back from a device: per
// row its max, its log-sum-exp, and its k largest logits with their token ids, best first, equal
// logits in id order (as a stable sort by descending logit orders them). NaN counts as -inf (its
// value is reported as -inf), as the sampler reads it; -0 and +0 are equal, so they tie by id.
// Backend::top_logits computes it on the backend's tensors; top_logits_ref is its specification.

#include <cstdint>
#include <cstring>

namespace hearth::ops {

// The most candidates per row a backend computes (the Vulkan shader keeps them in shared memory).
constexpr int kMaxTopLogits = 64;

// Floats of one output row: max, log-sum-exp, k values, then k ids (int32 bits in float slots,
// so the row reads back with Backend::read).
constexpr int64_t top_logits_width(int k) { return 2 + 2 * static_cast<int64_t>(k); }

// One output row read on the host. A row shorter than k fills the places past its length with
// -inf and id -1.
struct TopLogitsRow {
  const float* data;
  int k;
  float max() const { return data[0]; }
  float log_sum_exp() const { return data[1]; }
  float value(int i) const { return data[2 + i]; }
  int32_t id(int i) const {
    int32_t v;
    std::memcpy(&v, data + 2 + k + i, sizeof v);
    return v;
  }
};

// out [n_rows, top_logits_width(k)] from logits [n_rows, n] (rows n floats apart); 1 <= k <=
// kMaxTopLogits. max is -inf for a row of only -inf/NaN and the log-sum-exp then -inf too; a
// +inf logit gives a log-sum-exp of +inf. The log-sum-exp is summed in double here; a device
// sums floats in its own order (tests allow for that), while max, values and ids are exact.
void top_logits_ref(const float* logits, int64_t n_rows, int64_t n, int k, float* out);

}  // namespace hearth::ops
