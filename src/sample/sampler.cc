#include "sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "util/check.h"
#include "util/error.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hearth::sample {

namespace {

// Higher logit first; equal logits in id order, so every result is deterministic.
bool before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// p = softmax(logit / temperature) over c (sorted, so c[0] holds the max).
void softmax(std::vector<Candidate>& c, float temperature = 1.0f) {
  const float max = c[0].logit;
  double sum = 0;
  for (Candidate& x : c) {
    x.p = std::exp((x.logit - max) / temperature);
    sum += x.p;
  }
  for (Candidate& x : c) x.p = static_cast<float>(x.p / sum);
}

// The k best entries of l by `before` (NaN as -inf), best first, in one pass with a heap of k:
// a decode step samples every running sequence on the scheduler's thread, and building and
// partially sorting a candidate per vocabulary entry (152k) cost about 0.3 ms each. Once the heap
// is full, a block of logits none of which beats its worst entry is skipped with one vector
// compare (NaN compares false, as -inf does).
void top_k_candidates(std::span<const float> l, size_t k, std::vector<Candidate>& c) {
  c.clear();
  c.reserve(k);
  const size_t n = l.size();
  auto offer = [&](size_t i) {
    const float v = std::isnan(l[i]) ? -std::numeric_limits<float>::infinity() : l[i];
    // With `before` as the order, the heap's front is the worst candidate kept so far.
    if (c.size() < k) {
      c.push_back(Candidate{static_cast<int32_t>(i), v, 0.0f});
      std::push_heap(c.begin(), c.end(), before);
    } else if (v > c.front().logit) {  // a later id with an equal logit ranks lower: keep the old
      std::pop_heap(c.begin(), c.end(), before);
      c.back() = Candidate{static_cast<int32_t>(i), v, 0.0f};
      std::push_heap(c.begin(), c.end(), before);
    }
  };
  size_t i = 0;
  for (; i < n && c.size() < k; ++i) offer(i);
  constexpr size_t kBlock = 16;
  for (; i + kBlock <= n; i += kBlock) {
    const float worst = c.front().logit;
#if defined(__SSE2__)
    const __m128 w = _mm_set1_ps(worst);
    __m128 any = _mm_cmpgt_ps(_mm_loadu_ps(&l[i]), w);
    any = _mm_or_ps(any, _mm_cmpgt_ps(_mm_loadu_ps(&l[i + 4]), w));
    any = _mm_or_ps(any, _mm_cmpgt_ps(_mm_loadu_ps(&l[i + 8]), w));
    any = _mm_or_ps(any, _mm_cmpgt_ps(_mm_loadu_ps(&l[i + 12]), w));
    if (_mm_movemask_ps(any) == 0) continue;
#else
    bool any = false;
    for (size_t j = 0; j < kBlock; ++j) any |= l[i + j] > worst;
    if (!any) continue;
#endif
    for (size_t j = 0; j < kBlock; ++j) offer(i + j);
  }
  for (; i < n; ++i) offer(i);
  std::sort_heap(c.begin(), c.end(), before);
}

// The first index of the largest value (NaN ignored; index 0 when nothing beats -inf), in two
// vector passes: the scalar loop's compare-and-select chain took 0.15 ms over 152k logits, paid
// once per running chat per decode step.
size_t argmax(std::span<const float> l, float* best) {
  const size_t n = l.size();
  float m = -std::numeric_limits<float>::infinity();
  size_t i = 0;
#if defined(__SSE2__)
  __m128 acc[4] = {_mm_set1_ps(m), _mm_set1_ps(m), _mm_set1_ps(m), _mm_set1_ps(m)};
  for (; i + 16 <= n; i += 16) {
    // maxps returns its second operand when either is NaN: the accumulator survives a NaN.
    for (int j = 0; j < 4; ++j) acc[j] = _mm_max_ps(_mm_loadu_ps(&l[i + 4 * j]), acc[j]);
  }
  const __m128 a = _mm_max_ps(_mm_max_ps(acc[0], acc[1]), _mm_max_ps(acc[2], acc[3]));
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, a);
  for (float v : lanes) m = v > m ? v : m;
#endif
  for (; i < n; ++i) m = l[i] > m ? l[i] : m;
  *best = m;
  if (m == -std::numeric_limits<float>::infinity()) return 0;
  for (size_t j = 0; j < n; ++j) {
    if (l[j] == m) return j;
  }
  return 0;  // unreachable: m is one of the values
}

}  // namespace

Sampler::Sampler(const SamplerOptions& o, int num_ctx) : opts_(o), rng_(0) {
  auto bad = [](const std::string& m) { throw Error(ErrorCode::invalid_argument, m); };
  const std::pair<const char*, float> floats[] = {
      {"temperature", o.temperature},       {"top_p", o.top_p},
      {"min_p", o.min_p},                   {"typical_p", o.typical_p},
      {"repeat_penalty", o.repeat_penalty}, {"presence_penalty", o.presence_penalty},
      {"frequency_penalty", o.frequency_penalty}};
  for (const auto& [name, v] : floats) {
    if (!std::isfinite(v)) bad(std::string("option ") + name + " must be a finite number");
  }
  if (!(o.repeat_penalty > 0)) {
    bad("option repeat_penalty must be positive, got " + std::to_string(o.repeat_penalty));
  }
  if (o.repeat_last_n < -1) {
    bad("option repeat_last_n must be -1 (num_ctx), 0 (off) or positive, got " +
        std::to_string(o.repeat_last_n));
  }
  if (num_ctx < 0) bad("num_ctx must not be negative");
  window_ = o.repeat_last_n == -1 ? num_ctx : o.repeat_last_n;
  seed_ = o.seed == -1 ? Rng::random_seed() : static_cast<uint64_t>(o.seed);
  rng_ = Rng(seed_);
}

void Sampler::accept(int32_t token) {
  if (window_ <= 0) return;
  history_.push_back(token);
  while (history_.size() > static_cast<size_t>(window_)) history_.pop_front();
}

void Sampler::reset() {
  history_.clear();
  rng_ = Rng(seed_);
}

bool Sampler::penalizes() const {
  return !history_.empty() && (opts_.repeat_penalty != 1.0f || opts_.presence_penalty != 0.0f ||
                               opts_.frequency_penalty != 0.0f);
}

void Sampler::apply_penalties(std::span<float> logits) const {
  if (!penalizes()) return;
  std::vector<int32_t> ids(history_.begin(), history_.end());
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    const int32_t id = ids[i];
    const float count = static_cast<float>(j - i);
    i = j;
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(id)];
    // Dividing a positive logit and multiplying a negative one both make the token less likely.
    if (opts_.repeat_penalty != 1.0f) l = l > 0 ? l / opts_.repeat_penalty : l * opts_.repeat_penalty;
    l -= count * opts_.frequency_penalty + opts_.presence_penalty;
  }
}

void Sampler::filter(std::vector<Candidate>& c) const {
  const size_t n = c.size();
  const size_t k = opts_.top_k > 0 && static_cast<size_t>(opts_.top_k) < n
                       ? static_cast<size_t>(opts_.top_k)
                       : n;
  if (k < n) {
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(k), c.end(), before);
    c.resize(k);
  } else {
    std::sort(c.begin(), c.end(), before);
  }
  if (c[0].logit == -std::numeric_limits<float>::infinity()) {
    c.resize(1);  // nothing is possible: fall back to the first id
    c[0].p = 1.0f;
    return;
  }

  if (opts_.typical_p < 1.0f && c.size() > 1) {
    // Locally typical sampling: keep the tokens whose surprisal is closest to the entropy.
    softmax(c);
    double entropy = 0;
    for (const Candidate& x : c) {
      if (x.p > 0) entropy -= x.p * std::log(static_cast<double>(x.p));
    }
    std::vector<std::pair<double, size_t>> order(c.size());
    for (size_t i = 0; i < c.size(); ++i) {
      double surprisal = c[i].p > 0 ? -std::log(static_cast<double>(c[i].p))
                                    : std::numeric_limits<double>::infinity();
      order[i] = {std::fabs(surprisal - entropy), i};
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    double cum = 0;
    size_t keep = order.size();
    for (size_t i = 0; i < order.size(); ++i) {
      cum += c[order[i].second].p;
      if (cum > opts_.typical_p) {
        keep = i + 1;
        break;
      }
    }
    std::vector<Candidate> kept;
    kept.reserve(keep);
    for (size_t i = 0; i < keep; ++i) kept.push_back(c[order[i].second]);
    std::sort(kept.begin(), kept.end(), before);
    c = std::move(kept);
  }

  if (opts_.top_p < 1.0f && c.size() > 1) {
    softmax(c);
    double cum = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      cum += c[i].p;
      if (cum >= opts_.top_p) {
        c.resize(i + 1);
        break;
      }
    }
  }

  if (opts_.min_p > 0.0f && c.size() > 1) {
    softmax(c);
    const float threshold = opts_.min_p * c[0].p;
    size_t keep = 1;
    while (keep < c.size() && c[keep].p >= threshold) ++keep;
    c.resize(keep);
  }

  softmax(c, opts_.temperature);
}

void Sampler::compute(std::span<const float> logits, std::vector<Candidate>& c) const {
  c.clear();
  if (logits.empty()) return;
  // Penalties change a copy; without them the logits are read in place (a 152k-entry copy per
  // sequence per step is not free). A NaN stays NaN: both paths below read it as -inf.
  std::span<const float> l = logits;
  if (penalizes()) {
    scratch_.assign(logits.begin(), logits.end());
    apply_penalties(scratch_);
    l = scratch_;
  }
  if (greedy()) {
    float best_v = 0;
    const size_t best = argmax(l, &best_v);
    c.push_back(Candidate{static_cast<int32_t>(best), best_v, 1.0f});
    return;
  }
  const size_t n = l.size();
  if (opts_.top_k > 0 && static_cast<size_t>(opts_.top_k) < n) {
    top_k_candidates(l, static_cast<size_t>(opts_.top_k), c);
  } else {
    c.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const float v = std::isnan(l[i]) ? -std::numeric_limits<float>::infinity() : l[i];
      c[i] = {static_cast<int32_t>(i), v, 0.0f};
    }
  }
  filter(c);
}

std::vector<Candidate> Sampler::distribution(std::span<const float> logits) const {
  std::vector<Candidate> c;
  compute(logits, c);
  return c;
}

int Sampler::best_needed(int64_t n_vocab) const {
  if (penalizes() || n_vocab <= 0) return 0;
  if (greedy()) return 1;
  if (opts_.top_k <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(opts_.top_k, n_vocab));
}

int32_t Sampler::sample_best(std::span<const Candidate> best, int64_t n_vocab) {
  const int need = best_needed(n_vocab);
  HEARTH_CHECK(need > 0 && best.size() >= static_cast<size_t>(need));
  // compute()'s result from the whole row: greedy, the argmax; else top_k_candidates' k best
  // (top_k < n_vocab) or every entry sorted by filter (top_k >= n_vocab, so need == n_vocab),
  // which are these, in this order.
  std::vector<Candidate>& c = candidates_;
  c.assign(best.begin(), best.begin() + need);
  for (Candidate& x : c) x.p = greedy() ? 1.0f : 0.0f;
  if (!greedy()) filter(c);
  return draw(c);
}

int32_t Sampler::sample(std::span<const float> logits) {
  compute(logits, candidates_);
  return draw(candidates_);
}

int32_t Sampler::draw(const std::vector<Candidate>& c) {
  if (c.empty()) return 0;
  if (greedy() || c.size() == 1) return c[0].id;
  // Inverse-CDF draw in candidate order; one RNG step per sampled token.
  const double u = rng_.next_double();
  double cum = 0;
  for (const Candidate& x : c) {
    cum += x.p;
    if (u < cum) return x.id;
  }
  return c.back().id;  // u within rounding of 1
}

}  // namespace hearth::sample
