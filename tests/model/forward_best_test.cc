// Model::forward_best on the CPU backends: for every row that wants logits (two sequences, a
// prompt row in the middle and each last row) the best logits it returns are those
// ops::top_logits_ref finds in forward's whole rows of the same pass (ids and values' bits equal,
// log-sum-exp within float rounding), on the full 151,936-entry Qwen vocabulary; k out of range
// and encoders are clear errors.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model/model.h"
#include "ops/top_logits.h"
#include "util/error.h"

namespace hearth::model {
namespace {

const std::string kQwen = std::string(HEARTH_TESTDATA_DIR) + "/qwen2-tiny-q8_0.gguf";

Batch two_sequences() {
  Batch b;
  const int32_t a[] = {151646, 40, 1000, 52000, 7}, c[] = {151646, 9000, 12};
  for (int i = 0; i < 5; ++i) b.add(a[i], i, 0, i == 2 || i == 4);
  for (int i = 0; i < 3; ++i) b.add(c[i], i, 1, i == 2);
  return b;
}

void expect_best_of_whole_rows(const std::string& backend) {
  std::unique_ptr<Model> m = load_model(gguf::File::open(kQwen), Placement{backend, "", 0});
  const int64_t V = m->n_vocab();
  ASSERT_EQ(V, 151936);
  const Batch b = two_sequences();
  const int64_t rows = b.n_logits();
  std::vector<float> logits(static_cast<size_t>(rows * V));
  KvCache whole_cache = m->make_cache(32, 2, gguf::GgmlType::F16);
  m->forward(b, whole_cache, logits.data());
  for (int k : {1, 40, 64}) {
    const int64_t width = ops::top_logits_width(k);
    std::vector<float> best(static_cast<size_t>(rows * width)), want(best.size());
    KvCache cache = m->make_cache(32, 2, gguf::GgmlType::F16);
    m->forward_best(b, cache, k, best.data());
    ops::top_logits_ref(logits.data(), rows, V, k, want.data());
    for (int64_t r = 0; r < rows; ++r) {
      const ops::TopLogitsRow got{best.data() + r * width, k}, ref{want.data() + r * width, k};
      const std::string at = backend + " k " + std::to_string(k) + " row " + std::to_string(r);
      EXPECT_EQ(got.max(), ref.max()) << at;
      EXPECT_NEAR(got.log_sum_exp(), ref.log_sum_exp(), 1e-5) << at;
      for (int i = 0; i < k; ++i) {
        ASSERT_EQ(got.id(i), ref.id(i)) << at << " place " << i;
        ASSERT_EQ(std::memcmp(&got.data[2 + i], &ref.data[2 + i], 4), 0) << at << " place " << i;
      }
    }
  }
}

TEST(ForwardBest, TheBestOfForwardsRowsOnTheCpuBackends) {
  expect_best_of_whole_rows("cpu-ref");
  expect_best_of_whole_rows("cpu");
}

TEST(ForwardBest, KOutOfRangeIsAnError) {
  std::unique_ptr<Model> m = load_model(gguf::File::open(kQwen), Placement{"cpu", "", 0});
  KvCache cache = m->make_cache(32, 2, gguf::GgmlType::F16);
  const Batch b = two_sequences();
  std::vector<float> out(static_cast<size_t>(b.n_logits() * ops::top_logits_width(ops::kMaxTopLogits + 1)));
  for (int k : {0, ops::kMaxTopLogits + 1}) {
    try {
      m->forward_best(b, cache, k, out.data());
      ADD_FAILURE() << "k " << k << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("k must be"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(m->best_logits_pay()) << "a CPU head reads its rows in place";
}

}  // namespace
}  // namespace hearth::model
