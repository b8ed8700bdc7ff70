// The mixture-of-experts FFN block (blocks.h MoeFfn) on each CPU backend against a plain double
// computation of the same layer: router softmax or sigmoid, selection bias, top-k, normalized and
// scaled weights, SwiGLU experts from stacked tensors, plus a shared expert; on the CPU backends and
// on the first Vulkan device (lavapipe here). F32 weights, so the
// only differences are float roundings: relative error bound 1e-4 (measured ~1e-6).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/blocks.h"
#include "model/compute_backend.h"
#include "util/error.h"

namespace hearth::model {
namespace {

constexpr int64_t kEmbd = 24, kFf = 16, kShared = 20, kExperts = 6, kTok = 5;

struct Tensors {
  std::vector<float> router, gate, up, down, bias, sgate, sup, sdown;
};

std::vector<float> normal(size_t n, std::mt19937& rng, float sd) {
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

// y [rows] = W [rows, cols] x
std::vector<double> matvec(const float* w, int64_t rows, int64_t cols, const std::vector<double>& x) {
  std::vector<double> y(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) y[r] += static_cast<double>(w[r * cols + c]) * x[c];
  }
  return y;
}

std::vector<double> gated(const float* g, const float* u, const float* d, int64_t ff,
                          const std::vector<double>& x) {
  const auto a = matvec(g, ff, kEmbd, x), b = matvec(u, ff, kEmbd, x);
  std::vector<double> h(static_cast<size_t>(ff));
  for (int64_t i = 0; i < ff; ++i) h[i] = silu(a[i]) * b[i];
  return matvec(d, kEmbd, ff, h);
}

std::vector<double> reference(const Tensors& t, const FfnSpec& s, const std::vector<double>& x) {
  const auto logits = matvec(t.router.data(), kExperts, kEmbd, x);
  std::vector<double> p(kExperts), score(kExperts);
  if (s.gating.func == ops::GatingFunc::softmax) {
    const double mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (int e = 0; e < kExperts; ++e) sum += p[e] = std::exp(logits[e] - mx);
    for (double& v : p) v /= sum;
  } else {
    for (int e = 0; e < kExperts; ++e) p[e] = 1.0 / (1.0 + std::exp(-logits[e]));
  }
  for (int e = 0; e < kExperts; ++e) score[e] = p[e] + (s.selection_bias ? t.bias[e] : 0.0);
  std::vector<int> order(kExperts);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[a] > score[b]; });
  double wsum = 0;
  for (int j = 0; j < s.gating.k; ++j) wsum += p[order[j]];
  std::vector<double> out(kEmbd, 0.0);
  for (int j = 0; j < s.gating.k; ++j) {
    const int e = order[j];
    double w = p[e] / (s.gating.normalize ? wsum : 1.0) * s.gating.scale;
    const auto y = gated(t.gate.data() + e * kFf * kEmbd, t.up.data() + e * kFf * kEmbd,
                         t.down.data() + e * kEmbd * kFf, kFf, x);
    for (int i = 0; i < kEmbd; ++i) out[i] += w * y[i];
  }
  if (s.n_ff_shared > 0) {
    const auto y = gated(t.sgate.data(), t.sup.data(), t.sdown.data(), kShared, x);
    for (int i = 0; i < kEmbd; ++i) out[i] += y[i];
  }
  return out;
}

// The first Vulkan device that opens ("vulkan:N"), or "" (no Vulkan in this build or machine).
std::string vulkan_device() {
  for (int i = 0; i < 4; ++i) {
    try {
      make_compute_backend("vulkan:" + std::to_string(i));
      return "vulkan:" + std::to_string(i);
    } catch (const Error&) {
    }
  }
  return "";
}

TEST(MoeBlock, MatchesPlainComputationOnEveryBackend) {
  std::mt19937 rng(2005);
  Tensors t;
  t.router = normal(kExperts * kEmbd, rng, 0.5f);
  t.gate = normal(kExperts * kFf * kEmbd, rng, 0.3f);
  t.up = normal(kExperts * kFf * kEmbd, rng, 0.3f);
  t.down = normal(kExperts * kEmbd * kFf, rng, 0.3f);
  t.bias = normal(kExperts, rng, 0.1f);
  t.sgate = normal(kShared * kEmbd, rng, 0.3f);
  t.sup = normal(kShared * kEmbd, rng, 0.3f);
  t.sdown = normal(kEmbd * kShared, rng, 0.3f);
  gguf::Writer w;
  w.set_string("general.architecture", "test");
  auto add = [&](const char* name, const std::vector<float>& v, std::vector<int64_t> ne) {
    w.add_tensor(std::string("blk.0.") + name, gguf::GgmlType::F32, std::move(ne), v.data(), v.size() * 4);
  };
  add("ffn_gate_inp.weight", t.router, {kEmbd, kExperts});
  add("ffn_gate_exps.weight", t.gate, {kEmbd, kFf, kExperts});
  add("ffn_up_exps.weight", t.up, {kEmbd, kFf, kExperts});
  add("ffn_down_exps.weight", t.down, {kFf, kEmbd, kExperts});
  add("exp_probs_b.bias", t.bias, {kExperts});
  add("ffn_gate_shexp.weight", t.sgate, {kEmbd, kShared});
  add("ffn_up_shexp.weight", t.sup, {kEmbd, kShared});
  add("ffn_down_shexp.weight", t.sdown, {kShared, kEmbd});
  const std::vector<uint8_t> bytes = w.to_bytes();
  gguf::File file = gguf::File::from_memory(bytes.data(), bytes.size(), "moe.gguf");
  const auto x = normal(kTok * kEmbd, rng, 1.0f);

  struct Variant {
    ops::GatingFunc func;
    bool bias, normalize;
    int64_t shared;
  };
  for (Variant v : {Variant{ops::GatingFunc::softmax, false, true, 0},  // Qwen3-MoE
                    Variant{ops::GatingFunc::sigmoid, true, true, kShared},  // DeepSeek-V3
                    Variant{ops::GatingFunc::softmax, false, false, kShared}}) {  // DeepSeek-V2
    FfnSpec s;
    s.kind = FfnKind::moe;
    s.n_ff = kFf;
    s.n_expert = kExperts;
    s.gating.k = 2;
    s.gating.func = v.func;
    s.gating.normalize = v.normalize;
    s.gating.scale = v.bias ? 2.5f : 1.0f;
    s.selection_bias = v.bias;
    s.n_ff_shared = v.shared;
    std::vector<std::string> names = {"cpu", "cpu-ref"};
    if (!vulkan_device().empty()) names.push_back(vulkan_device());
    for (const std::string& name : names) {
      auto be = make_compute_backend(name);
      WeightLoader loader(file);
      auto block = make_ffn(s, loader, *be, "blk.0.", kEmbd);
      Scratch sc(*be);
      const std::vector<int32_t> pos(kTok, 0), seq(kTok, 0);
      const ops::SeqRows rows{pos.data(), seq.data(), kTok};
      ops::Tensor xn = be->alloc(gguf::GgmlType::F32, kEmbd, kTok);
      ops::Tensor out = be->alloc(gguf::GgmlType::F32, kEmbd, kTok);
      be->write(xn, kTok * kEmbd, x.data());
      block->forward(Step{sc, rows, kEmbd}, xn, out);
      std::vector<float> got(kTok * kEmbd);
      be->read(out, kTok * kEmbd, got.data());
      for (int64_t r = 0; r < kTok; ++r) {
        const std::vector<double> xr(x.begin() + r * kEmbd, x.begin() + (r + 1) * kEmbd);
        const auto want = reference(t, s, xr);
        double err = 0, norm = 0;
        for (int i = 0; i < kEmbd; ++i) {
          err += (got[r * kEmbd + i] - want[i]) * (got[r * kEmbd + i] - want[i]);
          norm += want[i] * want[i];
        }
        EXPECT_LT(std::sqrt(err / norm), 1e-4) << name << " row " << r << " shared " << v.shared;
      }
    }
  }
}

}  // namespace
}  // namespace hearth::model
