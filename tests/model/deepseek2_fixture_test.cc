// The shared deepseek2 fixture (../shared/testdata/deepseek2-tiny-q8_0.gguf: DeepSeek-V3/R1's
// layout with YaRN x40, sigmoid routing with the selection bias, a shared expert, the full V3
// vocabulary) through the engine and through the independent double-precision reference of
// tiny_deepseek2.cc, fed the file's own dequantized weights and hyperparameters: greedy tokens
// equal and logits within the Q8_0 budget of reference_forward_test.cc (5e-2; the engine rounds
// activations to 8 bits for Q8_0 weights).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/model.h"
#include "quant/type_traits.h"
#include "tiny_model.h"
#include "util/thread_pool.h"

namespace hearth::model {
namespace {

const std::string kFixture = std::string(HEARTH_TESTDATA_DIR) + "/deepseek2-tiny-q8_0.gguf";

testing::RefWeights weights_of(const gguf::File& f) {
  testing::RefWeights w;
  for (const gguf::TensorInfo& t : f.tensors()) {
    testing::RefTensor r;
    for (int d = 0; d < t.n_dims; ++d) r.ne.push_back(t.ne[d]);
    std::vector<float> v(static_cast<size_t>(t.n_elements()));
    quant::traits(t.type, CpuTier::ref).to_float(t.data, v.data(), t.n_elements());
    r.value.assign(v.begin(), v.end());
    w[t.name] = std::move(r);
  }
  return w;
}

testing::TinySpec spec_of(const gguf::File& f) {
  const std::string a = "deepseek2.";
  testing::TinySpec s;
  s.arch = "deepseek2";
  s.n_embd = f.get_i64(a + "embedding_length");
  s.n_layer = f.get_i64(a + "block_count");
  s.n_head = static_cast<int>(f.get_i64(a + "attention.head_count"));
  s.head_dim = f.get_i64(a + "attention.key_length");
  s.n_vocab = f.tensor("token_embd.weight").ne[1];
  s.rms_eps = f.get_f32(a + "attention.layer_norm_rms_epsilon");
  s.rope_base = f.get_f32(a + "rope.freq_base");
  s.n_expert = static_cast<int>(f.get_i64(a + "expert_count"));
  s.n_expert_used = static_cast<int>(f.get_i64(a + "expert_used_count"));
  testing::DeepseekSpec& d = s.ds;
  d.q_lora_rank = f.get_i64(a + "attention.q_lora_rank");
  d.kv_lora_rank = f.get_i64(a + "attention.kv_lora_rank");
  d.rope_dim = f.get_i64(a + "rope.dimension_count");
  d.head_dim_v = f.get_i64(a + "attention.value_length");
  d.n_dense = static_cast<int>(f.get_i64(a + "leading_dense_block_count"));
  d.n_shared = static_cast<int>(f.get_i64(a + "expert_shared_count"));
  d.sigmoid = f.get_i64(a + "expert_gating_func") == 2;
  d.normalize = f.get_bool(a + "expert_weights_norm");
  d.weights_scale = f.get_f32(a + "expert_weights_scale");
  d.n_group = static_cast<int>(f.get_i64(a + "expert_group_count"));
  d.n_group_used = static_cast<int>(f.get_i64(a + "expert_group_used_count"));
  d.yarn_factor = f.get_f32(a + "rope.scaling.factor");
  d.yarn_log_mul = f.get_f32(a + "rope.scaling.yarn_log_multiplier");
  d.yarn_orig_ctx = f.get_i64(a + "rope.scaling.original_context_length");
  return s;
}

int argmax(const float* v, int64_t n) { return static_cast<int>(std::max_element(v, v + n) - v); }
int argmax(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

// Runs the prompt and 16 greedy steps on `placement`, both sides continuing from the reference's
// choice; returns the engine's choices and fills the reference's, their top-2 gaps and the worst
// relative logits error.
std::vector<int> run(const Placement& placement, std::vector<int>& want_ids, std::vector<double>& gaps,
                     double& worst, double* worst_abs = nullptr) {
  const gguf::File f = gguf::File::open(kFixture);
  const testing::RefWeights w = weights_of(f);
  const testing::TinySpec spec = spec_of(f);
  EXPECT_EQ(spec.ds.yarn_factor, 40.0f);  // the case this test is about: YaRN as V3 sets it
  std::unique_ptr<Model> m = load_model(gguf::File::open(kFixture), placement);
  const int64_t V = m->n_vocab();
  KvCache cache = m->make_cache(64, 1, gguf::GgmlType::F16);
  testing::RefModel ref(spec, w);
  const std::vector<int32_t> prompt = {0, 1000, 2000, 3000, 4000, 5000, 6000, 7000};
  Batch b;
  for (size_t i = 0; i < prompt.size(); ++i) b.add(prompt[i], static_cast<int32_t>(i), 0, i + 1 == prompt.size());
  std::vector<float> logits(static_cast<size_t>(V));
  m->forward(b, cache, logits.data());
  std::vector<double> want;
  for (int32_t t : prompt) want = ref.step(t);
  std::vector<int> got_ids;
  want_ids.clear();
  gaps.clear();
  worst = 0.0;
  for (int i = 0; i < 16; ++i) {
    worst = std::max(worst, testing::rel_error(logits.data(), want));
    for (int64_t j = 0; worst_abs != nullptr && j < V; ++j) {
      *worst_abs = std::max(*worst_abs, std::fabs(logits[static_cast<size_t>(j)] - want[static_cast<size_t>(j)]));
    }
    got_ids.push_back(argmax(logits.data(), V));
    want_ids.push_back(argmax(want));
    std::vector<double> sorted = want;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<double>());
    gaps.push_back(sorted[0] - sorted[1]);
    const int32_t next = want_ids.back();
    b.clear();
    b.add(next, static_cast<int32_t>(prompt.size()) + i, 0, true);
    m->forward(b, cache, logits.data());
    want = ref.step(next);
  }
  return got_ids;
}

// The scalar backend multiplies float activations by the dequantized weights, as the reference
// does: its tokens must all agree.
TEST(DeepSeek2Fixture, ScalarBackendMatchesTheReference) {
  std::vector<int> want;
  std::vector<double> gaps;
  double worst = 0;
  const std::vector<int> got = run({"cpu-ref", "", 0}, want, gaps, worst);
  EXPECT_EQ(got, want);
  EXPECT_LT(worst, 1e-3);  // float vs double sums and the F16 cache (2^-12 relative per value)
  std::string ids;
  for (int id : want) ids += " " + std::to_string(id);
  std::printf("[ deepseek2-tiny ] reference greedy ids:%s; cpu-ref worst relative logits error %.3g\n",
              ids.c_str(), worst);
}

// The fast backend rounds activations to 8 bits for Q8_0 weights (~1 % on the logits, the budget of
// reference_forward_test.cc): tokens must agree wherever the reference's top two are further
// apart than that can move them.
TEST(DeepSeek2Fixture, FastBackendMatchesTheReferenceWhereNotNearATie) {
  global_thread_pool(2);
  std::vector<int> want;
  std::vector<double> gaps;
  double worst = 0, worst_abs = 0;
  const std::vector<int> got = run({"cpu", "", 0}, want, gaps, worst, &worst_abs);
  EXPECT_LT(worst, 5e-2);
  EXPECT_LT(worst_abs, 0.0065);  // measured 0.0060
  std::printf("fast backend: worst relative logits error %.3g, worst absolute %.4f\n", worst, worst_abs);
  int compared = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    std::printf("step %zu: reference %d, engine %d, reference top-2 gap %.4f\n", i, want[i], got[i], gaps[i]);
    // Two logits each off by at most worst_abs (< 0.0065) swap only across a gap below twice that.
    if (gaps[i] < 0.013) continue;
    ++compared;
    EXPECT_EQ(got[i], want[i]) << "step " << i;
  }
  EXPECT_GE(compared, 9);
  global_thread_pool(1);
}

}  // namespace
}  // namespace hearth::model
