// Fixed distributions in, expected choices out: each filter is checked on a distribution where it
// changes the answer.

#include "sample/sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "util/error.h"

namespace hearth::sample {
namespace {

// Logits whose softmax is exactly `probs`.
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

// Only the filter under test on: temperature 1, everything else off.
SamplerOptions plain() {
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.typical_p = 1.0f;
  o.seed = 1234;
  return o;
}

std::map<int32_t, float> as_map(const std::vector<Candidate>& c) {
  std::map<int32_t, float> m;
  for (const Candidate& x : c) m[x.id] = x.p;
  return m;
}

void expect_distribution(const std::vector<Candidate>& got, std::map<int32_t, double> want) {
  std::map<int32_t, float> m = as_map(got);
  ASSERT_EQ(m.size(), want.size());
  for (const auto& [id, p] : want) {
    ASSERT_TRUE(m.count(id)) << "token " << id << " missing";
    EXPECT_NEAR(m[id], p, 1e-5) << "token " << id;
  }
}

const std::vector<float> kFour = logits_of({0.5, 0.3, 0.15, 0.05});

TEST(SamplerOptions, OllamaDefaults) {
  SamplerOptions o;
  EXPECT_EQ(o.temperature, 0.8f);
  EXPECT_EQ(o.top_k, 40);
  EXPECT_EQ(o.top_p, 0.9f);
  EXPECT_EQ(o.min_p, 0.0f);
  EXPECT_EQ(o.typical_p, 1.0f);
  EXPECT_EQ(o.repeat_penalty, 1.0f);
  EXPECT_EQ(o.repeat_last_n, 64);
  EXPECT_EQ(o.presence_penalty, 0.0f);
  EXPECT_EQ(o.frequency_penalty, 0.0f);
  EXPECT_EQ(o.seed, -1);
}

TEST(Sampler, NoFiltersKeepsTheSoftmax) {
  Sampler s(plain());
  expect_distribution(s.distribution(kFour), {{0, 0.5}, {1, 0.3}, {2, 0.15}, {3, 0.05}});
  std::vector<Candidate> c = s.distribution(kFour);
  EXPECT_EQ(c[0].id, 0);  // sorted by logit
  EXPECT_EQ(c[3].id, 3);
}

TEST(Sampler, GreedyTakesArgmaxWithTiesToLowestId) {
  SamplerOptions o = plain();
  o.temperature = 0.0f;
  Sampler s(o);
  EXPECT_EQ(s.sample(std::vector<float>{1, 3, 3, 2}), 1);
  EXPECT_EQ(s.sample(std::vector<float>{1, 2, 3, 3}), 2);
  EXPECT_EQ(s.sample(kFour), 0);
  o.temperature = -1.0f;  // llama.cpp and Ollama treat any temperature <= 0 as greedy
  EXPECT_EQ(Sampler(o).sample(std::vector<float>{0, 5, 1}), 1);
  expect_distribution(s.distribution(std::vector<float>{1, 3, 3, 2}), {{1, 1.0}});
}

TEST(Sampler, TopK) {
  SamplerOptions o = plain();
  o.top_k = 2;
  expect_distribution(Sampler(o).distribution(kFour), {{0, 0.625}, {1, 0.375}});
  o.top_k = 1;
  expect_distribution(Sampler(o).distribution(kFour), {{0, 1.0}});
  o.top_k = 100;  // larger than the vocabulary: off
  EXPECT_EQ(Sampler(o).distribution(kFour).size(), 4u);
  // Ties at the cut keep the lower id.
  o.top_k = 2;
  expect_distribution(Sampler(o).distribution(std::vector<float>{0, 1, 1, 1}), {{1, 0.5}, {2, 0.5}});
}

// Greedy: the first index of the largest logit, NaN ignored, index 0 when nothing beats -inf.
TEST(Sampler, GreedyMatchesAScalarArgmaxOnRandomLogits) {
  std::mt19937 rng(11);
  SamplerOptions o = plain();
  o.temperature = 0.0f;
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + rng() % 200;
    std::vector<float> l(n);
    const bool all_bad = trial % 10 == 0;
    for (float& x : l) {
      const uint32_t r = rng() % 100;
      x = r < 10 || all_bad ? (r % 2 ? std::numeric_limits<float>::quiet_NaN() : -std::numeric_limits<float>::infinity())
                            : static_cast<float>(rng() % 8);
    }
    size_t want = 0;
    float best = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < n; ++i) {
      if (!std::isnan(l[i]) && l[i] > best) {
        best = l[i];
        want = i;
      }
    }
    EXPECT_EQ(Sampler(o).sample(l), static_cast<int32_t>(want)) << "trial " << trial;
  }
}

// Top-k selects in one pass over the vocabulary; the reference sorts a candidate per entry.
TEST(Sampler, TopKMatchesAFullSortOnRandomLogits) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + rng() % 3000;
    std::vector<float> l(n);
    // Few distinct values, so ties at the cut are common; a few NaN and -inf too.
    for (float& x : l) {
      const uint32_t r = rng() % 100;
      x = r < 3 ? std::numeric_limits<float>::quiet_NaN()
                : r < 6 ? -std::numeric_limits<float>::infinity() : static_cast<float>(rng() % 40) * 0.25f;
    }
    SamplerOptions o = plain();
    o.top_k = 1 + static_cast<int>(rng() % 60);
    std::vector<std::pair<float, int32_t>> ref;
    for (size_t i = 0; i < n; ++i) {
      ref.push_back({std::isnan(l[i]) ? -std::numeric_limits<float>::infinity() : l[i], static_cast<int32_t>(i)});
    }
    std::sort(ref.begin(), ref.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    const size_t k = std::min(n, static_cast<size_t>(o.top_k));
    const std::vector<Candidate> got = Sampler(o).distribution(l);
    if (ref[0].first == -std::numeric_limits<float>::infinity()) {
      ASSERT_EQ(got.size(), 1u);
      EXPECT_EQ(got[0].id, ref[0].second);
      continue;
    }
    ASSERT_EQ(got.size(), k) << "trial " << trial;
    for (size_t i = 0; i < k; ++i) {
      ASSERT_EQ(got[i].id, ref[i].second) << "trial " << trial << " rank " << i;
      ASSERT_EQ(got[i].logit, ref[i].first);
    }
  }
}

TEST(Sampler, TopP) {
  SamplerOptions o = plain();
  o.top_p = 0.7f;  // 0.5 < 0.7 <= 0.5 + 0.3
  expect_distribution(Sampler(o).distribution(kFour), {{0, 0.625}, {1, 0.375}});
  o.top_p = 0.85f;
  expect_distribution(Sampler(o).distribution(kFour),
                      {{0, 0.5 / 0.95}, {1, 0.3 / 0.95}, {2, 0.15 / 0.95}});
  o.top_p = 0.1f;
  expect_distribution(Sampler(o).distribution(kFour), {{0, 1.0}});
}

TEST(Sampler, MinP) {
  SamplerOptions o = plain();
  o.min_p = 0.4f;  // threshold 0.2: keeps 0.5 and 0.3
  expect_distribution(Sampler(o).distribution(kFour), {{0, 0.625}, {1, 0.375}});
  o.min_p = 0.25f;  // threshold 0.125: keeps 0.15 too
  expect_distribution(Sampler(o).distribution(kFour),
                      {{0, 0.5 / 0.95}, {1, 0.3 / 0.95}, {2, 0.15 / 0.95}});
}

TEST(Sampler, TypicalPCanDropTheMostLikelyToken) {
  // Entropy 1.33 nats; surprisal of token 0 is 0.92, of the others 1.61: the others are more
  // "typical", so with typical_p 0.5 token 0 is dropped.
  SamplerOptions o = plain();
  o.typical_p = 0.5f;
  std::vector<float> l = logits_of({0.4, 0.2, 0.2, 0.2});
  expect_distribution(Sampler(o).distribution(l), {{1, 1 / 3.0}, {2, 1 / 3.0}, {3, 1 / 3.0}});
  o.typical_p = 1.0f;
  EXPECT_EQ(Sampler(o).distribution(l).size(), 4u);
}

TEST(Sampler, TemperatureReshapes) {
  SamplerOptions o = plain();
  o.temperature = 2.0f;
  // softmax(log p / 2) = sqrt(p) / sum(sqrt(p)).
  double z = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.15) + std::sqrt(0.05);
  expect_distribution(Sampler(o).distribution(kFour), {{0, std::sqrt(0.5) / z},
                                                       {1, std::sqrt(0.3) / z},
                                                       {2, std::sqrt(0.15) / z},
                                                       {3, std::sqrt(0.05) / z}});
  o.temperature = 0.5f;  // p^2 normalised
  double z2 = 0.25 + 0.09 + 0.0225 + 0.0025;
  expect_distribution(Sampler(o).distribution(kFour),
                      {{0, 0.25 / z2}, {1, 0.09 / z2}, {2, 0.0225 / z2}, {3, 0.0025 / z2}});
}

TEST(Sampler, TemperatureComesAfterTopP) {
  // With top_p 0.7 on the raw distribution only tokens 0 and 1 survive; a hot temperature then
  // flattens just those two.
  SamplerOptions o = plain();
  o.top_p = 0.7f;
  o.temperature = 100.0f;
  std::map<int32_t, float> m = as_map(Sampler(o).distribution(kFour));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0], 0.5, 0.01);
}

TEST(Sampler, DrawsFollowTheDistribution) {
  SamplerOptions o = plain();
  o.top_k = 2;  // {0: 0.625, 1: 0.375}
  Sampler s(o);
  int counts[4] = {};
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[s.sample(kFour)]++;
  EXPECT_EQ(counts[2] + counts[3], 0);
  EXPECT_NEAR(counts[0] / double(n), 0.625, 0.015);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedsDiffer) {
  std::vector<float> flat(100, 0.0f);
  auto run = [&](int64_t seed) {
    SamplerOptions o = plain();
    o.seed = seed;
    Sampler s(o);
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(flat));
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  EXPECT_NE(run(0), run(1));
  // reset() replays the same sequence.
  SamplerOptions o = plain();
  o.seed = 9;
  Sampler s(o);
  int32_t first = s.sample(flat), second = s.sample(flat);
  s.reset();
  EXPECT_EQ(s.sample(flat), first);
  EXPECT_EQ(s.sample(flat), second);
}

TEST(Sampler, SeedMinusOneIsRandom) {
  SamplerOptions o = plain();
  o.seed = -1;
  EXPECT_NE(Sampler(o).seed(), Sampler(o).seed());
  o.seed = 5;
  EXPECT_EQ(Sampler(o).seed(), 5u);
}

TEST(Sampler, FixedSeedPinsTheTokens) {
  // The RNG is specified (rng_test.cc), so these ids hold on every machine.
  SamplerOptions o = plain();
  o.seed = 42;
  Sampler s(o);
  std::vector<float> flat(8, 0.0f);
  std::vector<int32_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(s.sample(flat));
  // Inverse CDF over 8 equal tokens: id = floor(u * 8) with u = (x >> 11) / 2^53 for the
  // xoshiro outputs 0x15780b2e..., 0x6104d986..., 0xae175332..., 0xecb8ad47..., 0xfde6dc7f...
  EXPECT_EQ(got, (std::vector<int32_t>{0, 3, 5, 7, 7}));
}

TEST(Sampler, RepeatPenaltyOverTheWindow) {
  SamplerOptions o = plain();
  o.repeat_penalty = 2.0f;
  o.repeat_last_n = 3;
  Sampler s(o);
  for (int32_t t : {2, 0, 1, 0, 4}) s.accept(t);  // the window holds 1, 0, 4
  std::vector<float> l = {2, -2, 1, 0.5f, 3};
  s.apply_penalties(l);
  EXPECT_EQ(l, (std::vector<float>{1, -4, 1, 0.5f, 1.5f}));
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  SamplerOptions o = plain();
  o.presence_penalty = 0.25f;
  o.frequency_penalty = 0.5f;
  Sampler s(o);
  for (int32_t t : {0, 1, 0, 0}) s.accept(t);
  std::vector<float> l = {2, -2, 1};
  s.apply_penalties(l);
  EXPECT_FLOAT_EQ(l[0], 2 - (3 * 0.5f + 0.25f));
  EXPECT_FLOAT_EQ(l[1], -2 - (0.5f + 0.25f));
  EXPECT_FLOAT_EQ(l[2], 1);
}

TEST(Sampler, PenaltyChangesTheGreedyChoice) {
  SamplerOptions o = plain();
  o.temperature = 0;
  o.repeat_penalty = 2.0f;
  Sampler s(o);
  std::vector<float> l = {5, 4};
  EXPECT_EQ(s.sample(l), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(l), 1);  // 5 / 2 < 4
  EXPECT_EQ(l, (std::vector<float>{5, 4})) << "the caller's logits are untouched";
}

TEST(Sampler, RepeatLastNZeroIsOffAndMinusOneIsNumCtx) {
  SamplerOptions o = plain();
  o.repeat_penalty = 2.0f;
  o.repeat_last_n = 0;
  Sampler off(o);
  off.accept(0);
  std::vector<float> l = {2, 2};
  off.apply_penalties(l);
  EXPECT_EQ(l, (std::vector<float>{2, 2}));

  o.repeat_last_n = -1;
  Sampler ctx(o, /*num_ctx=*/2);
  for (int32_t t : {0, 1, 1}) ctx.accept(t);  // only the last 2 (1, 1) remain
  ctx.apply_penalties(l);
  EXPECT_EQ(l, (std::vector<float>{2, 1}));
}

TEST(Sampler, OutOfRangeHistoryIdsAreIgnored) {
  SamplerOptions o = plain();
  o.repeat_penalty = 2.0f;
  Sampler s(o);
  s.accept(-1);
  s.accept(1000);
  std::vector<float> l = {2, 2};
  s.apply_penalties(l);
  EXPECT_EQ(l, (std::vector<float>{2, 2}));
}

TEST(Sampler, DegenerateLogitsNeverThrow) {
  Sampler s(plain());
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(s.sample(std::vector<float>{-inf, -inf, -inf}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{nan, -inf, 1.0f}), 2);
  EXPECT_EQ(s.sample(std::vector<float>{}), 0);
  EXPECT_EQ(s.sample(std::vector<float>{nan, 3.0f}), 1);
}

TEST(Sampler, RejectsUnusableOptions) {
  auto code = [](SamplerOptions o) {
    try {
      Sampler s(o);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  SamplerOptions o = plain();
  o.repeat_penalty = 0;
  EXPECT_EQ(code(o), ErrorCode::invalid_argument);
  o = plain();
  o.repeat_last_n = -2;
  EXPECT_EQ(code(o), ErrorCode::invalid_argument);
  o = plain();
  o.top_p = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(code(o), ErrorCode::invalid_argument);
  o = plain();
  o.temperature = std::numeric_limits<float>::infinity();
  EXPECT_EQ(code(o), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace hearth::sample
