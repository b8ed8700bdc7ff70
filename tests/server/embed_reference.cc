#include "embed_reference.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "quant/type_traits.h"
#include "util/cpu_features.h"

namespace hearth::testing {

namespace {

void rmsnorm(std::vector<double>& x, size_t off, size_t n, const std::vector<double>& g, double eps) {
  double ss = 0.0;
  for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
  const double r = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
  for (size_t i = 0; i < n; ++i) x[off + i] = x[off + i] * r * g[i];
}

// Llama pairs neighbours (2i, 2i+1); NeoX (qwen2) pairs i with i + n_rot/2.
void rotate(double* h, int64_t n_rot, int64_t pos, double base, bool neox) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double freq = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    const double ang = static_cast<double>(pos) * freq;
    const int64_t a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
    const double x0 = h[a], x1 = h[b];
    h[a] = x0 * std::cos(ang) - x1 * std::sin(ang);
    h[b] = x0 * std::sin(ang) + x1 * std::cos(ang);
  }
}

}  // namespace

RefHidden::RefHidden(const std::string& path) : file_(gguf::File::open(path)) {
  arch_ = file_.get_string("general.architecture");
  if (arch_ != "llama" && arch_ != "qwen2") throw std::runtime_error("reference: arch " + arch_);
  const std::string a = arch_ + ".";
  n_embd_ = file_.get_u32(a + "embedding_length");
  n_layer_ = file_.get_u32(a + "block_count");
  n_head_ = file_.get_u32(a + "attention.head_count");
  n_head_kv_ = file_.get_u32_or(a + "attention.head_count_kv", static_cast<uint32_t>(n_head_));
  head_dim_ = n_embd_ / n_head_;
  n_rot_ = file_.get_u32_or(a + "rope.dimension_count", static_cast<uint32_t>(head_dim_));
  rope_base_ = file_.get_f32_or(a + "rope.freq_base", 10000.0f);
  eps_ = file_.get_f32(a + "attention.layer_norm_rms_epsilon");
}

std::vector<double> RefHidden::dequant(const std::string& name, int64_t first_row, int64_t n_rows) const {
  const gguf::TensorInfo& t = file_.tensor(name);
  const quant::TypeTraits& tr = quant::traits(t.type, CpuTier::ref);
  const int64_t cols = t.ne[0];
  const int64_t row_bytes = cols / tr.block_elems * tr.block_bytes;
  std::vector<float> f(static_cast<size_t>(cols * n_rows));
  tr.to_float(t.data + first_row * row_bytes, f.data(), cols * n_rows);
  return std::vector<double>(f.begin(), f.end());
}

const std::vector<double>& RefHidden::w(const std::string& name) const {
  auto it = cache_.find(name);
  if (it != cache_.end()) return it->second;
  return cache_[name] = dequant(name, 0, file_.tensor(name).n_rows());
}

std::vector<double> RefHidden::matvec(const std::string& name, const std::vector<double>& x) const {
  const std::vector<double>& m = w(name);
  const int64_t cols = file_.tensor(name).ne[0], rows = file_.tensor(name).n_rows();
  std::vector<double> y(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double acc = 0.0;
    for (int64_t c = 0; c < cols; ++c) acc += m[static_cast<size_t>(r * cols + c)] * x[static_cast<size_t>(c)];
    y[static_cast<size_t>(r)] = acc;
  }
  return y;
}

std::vector<std::vector<double>> RefHidden::run(const std::vector<int32_t>& tokens) const {
  const int64_t E = n_embd_, D = head_dim_, H = n_head_, HKV = n_head_kv_;
  const bool neox = arch_ == "qwen2";
  std::vector<std::vector<double>> kc(static_cast<size_t>(n_layer_)), vc(static_cast<size_t>(n_layer_));
  std::vector<std::vector<double>> out;
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    std::vector<double> x = dequant("token_embd.weight", tokens[pos], 1);
    for (int64_t il = 0; il < n_layer_; ++il) {
      const std::string p = "blk." + std::to_string(il) + ".";
      std::vector<double> h = x;
      rmsnorm(h, 0, static_cast<size_t>(E), w(p + "attn_norm.weight"), eps_);
      std::vector<double> q = matvec(p + "attn_q.weight", h);
      std::vector<double> k = matvec(p + "attn_k.weight", h);
      std::vector<double> v = matvec(p + "attn_v.weight", h);
      if (file_.find_tensor(p + "attn_q.bias") != nullptr) {
        for (size_t i = 0; i < q.size(); ++i) q[i] += w(p + "attn_q.bias")[i];
        for (size_t i = 0; i < k.size(); ++i) k[i] += w(p + "attn_k.bias")[i];
        for (size_t i = 0; i < v.size(); ++i) v[i] += w(p + "attn_v.bias")[i];
      }
      for (int64_t hh = 0; hh < H; ++hh) rotate(&q[static_cast<size_t>(hh * D)], n_rot_, static_cast<int64_t>(pos), rope_base_, neox);
      for (int64_t hh = 0; hh < HKV; ++hh) rotate(&k[static_cast<size_t>(hh * D)], n_rot_, static_cast<int64_t>(pos), rope_base_, neox);
      auto& kl = kc[static_cast<size_t>(il)];
      auto& vl = vc[static_cast<size_t>(il)];
      kl.insert(kl.end(), k.begin(), k.end());
      vl.insert(vl.end(), v.begin(), v.end());
      const int64_t n_pos = static_cast<int64_t>(pos) + 1;
      std::vector<double> att(static_cast<size_t>(H * D), 0.0);
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t kvh = hh / (H / HKV);
        std::vector<double> sc(static_cast<size_t>(n_pos));
        double mx = -1e300;
        for (int64_t t = 0; t < n_pos; ++t) {
          double d = 0.0;
          for (int64_t i = 0; i < D; ++i) d += q[static_cast<size_t>(hh * D + i)] * kl[static_cast<size_t>((t * HKV + kvh) * D + i)];
          sc[static_cast<size_t>(t)] = d / std::sqrt(static_cast<double>(D));
          mx = std::max(mx, sc[static_cast<size_t>(t)]);
        }
        double sum = 0.0;
        for (auto& e : sc) sum += (e = std::exp(e - mx));
        for (int64_t t = 0; t < n_pos; ++t) {
          for (int64_t i = 0; i < D; ++i) {
            att[static_cast<size_t>(hh * D + i)] += sc[static_cast<size_t>(t)] / sum * vl[static_cast<size_t>((t * HKV + kvh) * D + i)];
          }
        }
      }
      std::vector<double> o = matvec(p + "attn_output.weight", att);
      for (int64_t i = 0; i < E; ++i) x[static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
      h = x;
      rmsnorm(h, 0, static_cast<size_t>(E), w(p + "ffn_norm.weight"), eps_);
      std::vector<double> g = matvec(p + "ffn_gate.weight", h);
      std::vector<double> u = matvec(p + "ffn_up.weight", h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      std::vector<double> d = matvec(p + "ffn_down.weight", g);
      for (int64_t i = 0; i < E; ++i) x[static_cast<size_t>(i)] += d[static_cast<size_t>(i)];
    }
    rmsnorm(x, 0, static_cast<size_t>(E), w("output_norm.weight"), eps_);
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace hearth::testing
