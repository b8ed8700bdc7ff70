// Sampler::sample_best, fed a row's best logits only (what a device reads back), picks the very
// tokens sample() picks from the whole row, step after step with the same seed (so the random
// draws stay in step too), for greedy, top_k + temperature + top_p, min_p and typical_p, over
// rows with ties, -inf, NaN and both zeros; best_needed says when the whole row is needed.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sample/sampler.h"

namespace hearth::sample {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// A row with few distinct values (ties at every cut), some NaN, -inf and signed zeros.
std::vector<float> awkward_row(std::mt19937& rng, size_t n) {
  std::vector<float> l(n);
  for (float& x : l) {
    const uint32_t r = rng() % 100;
    x = r < 2   ? std::numeric_limits<float>::quiet_NaN()
        : r < 4 ? -kInf
        : r < 6 ? -0.0f
        : r < 8 ? 0.0f
                : static_cast<float>(rng() % 60) * 0.125f - 2.0f;
  }
  return l;
}

// The first `k` of the row by logit, ties by id, NaN as -inf: the order ops::top_logits gives.
std::vector<Candidate> best_of(const std::vector<float>& l, size_t k) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < l.size(); ++i) c.push_back({static_cast<int32_t>(i), std::isnan(l[i]) ? -kInf : l[i], 0.0f});
  std::stable_sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
  c.resize(std::min(k, c.size()));
  return c;
}

struct Setting {
  const char* name;
  SamplerOptions o;
};

std::vector<Setting> settings() {
  std::vector<Setting> s;
  SamplerOptions o;
  o.temperature = 0.0f;
  s.push_back({"greedy", o});
  o = SamplerOptions{};  // top_k 40, temperature 0.8, top_p 0.9: Ollama's defaults
  s.push_back({"top_k 40 temperature 0.8 top_p 0.9", o});
  o.top_p = 1.0f;
  o.min_p = 0.05f;
  s.push_back({"top_k 40 min_p 0.05", o});
  o = SamplerOptions{};
  o.top_k = 64;
  o.typical_p = 0.7f;
  o.temperature = 1.3f;
  s.push_back({"top_k 64 typical_p 0.7 temperature 1.3", o});
  o = SamplerOptions{};
  o.top_k = 1;
  s.push_back({"top_k 1", o});
  return s;
}

TEST(SamplerBest, SameTokensAsTheWholeRowOverManySeeds) {
  std::mt19937 rng(11);
  int differ_from_greedy = 0;
  for (const Setting& st : settings()) {
    for (int64_t seed = 0; seed < 60; ++seed) {
      SamplerOptions o = st.o;
      o.seed = seed;
      Sampler whole(o), best(o);
      const size_t n = seed % 3 == 0 ? 7 : seed % 3 == 1 ? 50 : 3000;  // 7, 50: top_k >= n_vocab
      for (int step = 0; step < 12; ++step) {
        const std::vector<float> row = awkward_row(rng, n);
        const int need = best.best_needed(static_cast<int64_t>(n));
        ASSERT_EQ(need, std::min<int>(st.o.temperature <= 0 ? 1 : st.o.top_k, static_cast<int>(n))) << st.name;
        // Exactly what is needed, and the 64 a device would read: both give the same token.
        const auto cands = best_of(row, seed % 2 == 0 ? static_cast<size_t>(need) : 64);
        const int32_t a = whole.sample(row), b = best.sample_best(cands, static_cast<int64_t>(n));
        ASSERT_EQ(a, b) << st.name << " seed " << seed << " step " << step << " n " << n;
        whole.accept(a);
        best.accept(b);
        differ_from_greedy += a != cands[0].id;
      }
    }
  }
  EXPECT_GT(differ_from_greedy, 100) << "the draws should not all be the argmax";
}

TEST(SamplerBest, WholeRowNeededForPenaltiesAndTopKOff) {
  SamplerOptions o;
  o.repeat_penalty = 1.1f;
  Sampler s(o);
  EXPECT_EQ(s.best_needed(1000), 40) << "no history yet: nothing to penalise";
  s.accept(5);
  EXPECT_EQ(s.best_needed(1000), 0) << "a penalised token may leave or join the best";
  o = SamplerOptions{};
  o.presence_penalty = 0.5f;
  Sampler p(o);
  p.accept(1);
  EXPECT_EQ(p.best_needed(1000), 0);
  o = SamplerOptions{};
  o.top_k = 0;
  EXPECT_EQ(Sampler(o).best_needed(1000), 0) << "top_k off: the whole vocabulary competes";
  o.temperature = 0.0f;
  EXPECT_EQ(Sampler(o).best_needed(1000), 1) << "greedy: the argmax is enough";
  o = SamplerOptions{};
  o.top_k = 100;
  EXPECT_EQ(Sampler(o).best_needed(30), 30);
}

TEST(SamplerBest, AllMinusInfinityGivesTokenZeroAsTheWholeRowDoes) {
  const std::vector<float> row(9, -kInf);
  for (float t : {0.0f, 0.8f}) {
    SamplerOptions o;
    o.temperature = t;
    o.seed = 3;
    Sampler whole(o), best(o);
    EXPECT_EQ(whole.sample(row), 0);
    EXPECT_EQ(best.sample_best(best_of(row, 40), 9), 0);
  }
}

}  // namespace
}  // namespace hearth::sample
