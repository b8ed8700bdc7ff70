#include "tiny_encoder.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hearth::model::testing {

namespace {

double inv_sqrt(int64_t n) { return std::sqrt(3.0 / static_cast<double>(n)); }

const std::vector<double>& get(const RefWeights& w, const std::string& name) {
  auto it = w.find(name);
  if (it == w.end()) throw std::runtime_error("reference: no tensor " + name);
  return it->second.value;
}

// y = W x (+ b) for W of [cols, rows], rows [first, first + count).
std::vector<double> linear(const RefWeights& w, const std::string& name, const std::vector<double>& x,
                           int64_t first = 0, int64_t count = -1) {
  const RefTensor& t = w.at(name);
  const int64_t cols = t.ne[0];
  if (count < 0) count = t.ne[1];
  std::vector<double> y(static_cast<size_t>(count), 0.0);
  for (int64_t r = 0; r < count; ++r) {
    for (int64_t c = 0; c < cols; ++c) y[r] += t.value[(first + r) * cols + c] * x[c];
  }
  return y;
}

void add_to(std::vector<double>& y, const std::vector<double>& b) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += b[i];
}

void layernorm(std::vector<double>& x, const std::vector<double>& g, const std::vector<double>& b,
               double eps) {
  double mean = 0.0, var = 0.0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  const double r = 1.0 / std::sqrt(var / static_cast<double>(x.size()) + eps);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (x[i] - mean) * r * g[i] + b[i];
}

double gelu(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

// NeoX rotation of one head: element i pairs with i + d/2.
void rotate_neox(double* h, int64_t d, int64_t pos, double base) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const double ang = static_cast<double>(pos) * std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d));
    const double x0 = h[i], x1 = h[i + d / 2];
    h[i] = x0 * std::cos(ang) - x1 * std::sin(ang);
    h[i + d / 2] = x0 * std::sin(ang) + x1 * std::cos(ang);
  }
}

}  // namespace

std::vector<uint8_t> write_tiny_encoder(const TinyEncoderSpec& s, RefWeights* weights, bool vocab) {
  gguf::Writer w;
  weights->clear();
  RandomTensors b(w, *weights, s.seed);
  const bool bert = s.arch == "bert";
  const std::string a = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_f32(a + "attention.layer_norm_epsilon", s.norm_eps);
  w.set_bool(a + "attention.causal", false);
  w.set_u32(a + "pooling_type", s.pooling);
  if (!bert) w.set_f32(a + "rope.freq_base", s.rope_base);
  if (vocab) {
    std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
    std::vector<int32_t> types = {3, 3, 3, 3};
    const std::string letters = "abcdefghijklmnopqrstuvwxyz";
    for (int64_t i = 4; i < s.n_vocab; ++i) {
      // Word starts ("\u2581a"), continuations ("a") and two-letter pieces.
      const size_t k = static_cast<size_t>(i - 4);
      std::string t = k < 26 ? "\xE2\x96\x81" + letters.substr(k, 1)
                      : k < 52 ? letters.substr(k - 26, 1)
                               : "\xE2\x96\x81" + letters.substr(k % 26, 1) + letters.substr((k * 7) % 26, 1);
      tokens.push_back(t);
      types.push_back(1);
    }
    w.set_string("tokenizer.ggml.model", "bert");
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.padding_token_id", 0);
    w.set_u32("tokenizer.ggml.unknown_token_id", 1);
    w.set_u32("tokenizer.ggml.cls_token_id", 2);
    w.set_u32("tokenizer.ggml.seperator_token_id", 3);
  }
  const int64_t E = s.n_embd, F = s.n_ff;
  const gguf::GgmlType f32 = gguf::GgmlType::F32, wt = s.weight_type;
  b.add("token_embd.weight", s.embd_type, {E, s.n_vocab}, 1.0);
  b.add("token_types.weight", f32, {E, 2}, 0.5);
  if (bert) b.add("position_embd.weight", f32, {E, s.n_ctx}, 0.5);
  b.add("token_embd_norm.weight", f32, {E}, 0.2, 1.0);
  b.add("token_embd_norm.bias", f32, {E}, 0.2);
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    if (bert) {
      for (const char* n : {"attn_q", "attn_k", "attn_v"}) {
        b.add(p + n + ".weight", wt, {E, E}, inv_sqrt(E));
        b.add(p + n + ".bias", f32, {E}, 0.3);
      }
    } else {
      b.add(p + "attn_qkv.weight", wt, {E, 3 * E}, inv_sqrt(E));
    }
    b.add(p + "attn_output.weight", wt, {E, E}, inv_sqrt(E));
    if (bert) b.add(p + "attn_output.bias", f32, {E}, 0.3);
    b.add(p + "attn_output_norm.weight", f32, {E}, 0.2, 1.0);
    b.add(p + "attn_output_norm.bias", f32, {E}, 0.2);
    b.add(p + "ffn_up.weight", wt, {E, F}, inv_sqrt(E));
    if (bert) {
      b.add(p + "ffn_up.bias", f32, {F}, 0.3);
    } else {
      b.add(p + "ffn_gate.weight", wt, {E, F}, inv_sqrt(E));
    }
    b.add(p + "ffn_down.weight", wt, {F, E}, inv_sqrt(F));
    if (bert) b.add(p + "ffn_down.bias", f32, {E}, 0.3);
    b.add(p + "layer_output_norm.weight", f32, {E}, 0.2, 1.0);
    b.add(p + "layer_output_norm.bias", f32, {E}, 0.2);
  }
  if (s.edit) s.edit(w);
  return w.to_bytes();
}

std::vector<std::vector<double>> ref_encode(const TinyEncoderSpec& s, const RefWeights& w,
                                            const std::vector<int32_t>& tokens) {
  const bool bert = s.arch == "bert";
  const int64_t E = s.n_embd, H = s.n_head, D = E / H;
  const size_t n = tokens.size();
  std::vector<std::vector<double>> x(n);
  const std::vector<double>& embd = get(w, "token_embd.weight");
  const std::vector<double>& types = get(w, "token_types.weight");
  for (size_t t = 0; t < n; ++t) {
    x[t].assign(embd.begin() + tokens[t] * E, embd.begin() + (tokens[t] + 1) * E);
    for (int64_t i = 0; i < E; ++i) x[t][i] += types[i];  // type 0
    if (bert) {
      const std::vector<double>& pos = get(w, "position_embd.weight");
      for (int64_t i = 0; i < E; ++i) x[t][i] += pos[t * E + i];
    }
    layernorm(x[t], get(w, "token_embd_norm.weight"), get(w, "token_embd_norm.bias"), s.norm_eps);
  }
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    std::vector<std::vector<double>> q(n), k(n), v(n);
    for (size_t t = 0; t < n; ++t) {
      if (bert) {
        q[t] = linear(w, p + "attn_q.weight", x[t]);
        k[t] = linear(w, p + "attn_k.weight", x[t]);
        v[t] = linear(w, p + "attn_v.weight", x[t]);
        add_to(q[t], get(w, p + "attn_q.bias"));
        add_to(k[t], get(w, p + "attn_k.bias"));
        add_to(v[t], get(w, p + "attn_v.bias"));
      } else {
        q[t] = linear(w, p + "attn_qkv.weight", x[t], 0, E);
        k[t] = linear(w, p + "attn_qkv.weight", x[t], E, E);
        v[t] = linear(w, p + "attn_qkv.weight", x[t], 2 * E, E);
        for (int64_t h = 0; h < H; ++h) {
          rotate_neox(&q[t][h * D], D, static_cast<int64_t>(t), s.rope_base);
          rotate_neox(&k[t][h * D], D, static_cast<int64_t>(t), s.rope_base);
        }
      }
    }
    for (size_t t = 0; t < n; ++t) {
      std::vector<double> att(static_cast<size_t>(E), 0.0);
      for (int64_t h = 0; h < H; ++h) {
        std::vector<double> sc(n);
        double mx = -1e300;
        for (size_t u = 0; u < n; ++u) {  // every position: no causal mask
          double d = 0.0;
          for (int64_t i = 0; i < D; ++i) d += q[t][h * D + i] * k[u][h * D + i];
          sc[u] = d / std::sqrt(static_cast<double>(D));
          mx = std::max(mx, sc[u]);
        }
        double sum = 0.0;
        for (double& e : sc) sum += (e = std::exp(e - mx));
        for (size_t u = 0; u < n; ++u) {
          for (int64_t i = 0; i < D; ++i) att[h * D + i] += sc[u] / sum * v[u][h * D + i];
        }
      }
      std::vector<double> o = linear(w, p + "attn_output.weight", att);
      if (bert) add_to(o, get(w, p + "attn_output.bias"));
      add_to(x[t], o);
      layernorm(x[t], get(w, p + "attn_output_norm.weight"), get(w, p + "attn_output_norm.bias"), s.norm_eps);
    }
    for (size_t t = 0; t < n; ++t) {
      std::vector<double> u = linear(w, p + "ffn_up.weight", x[t]);
      if (bert) {
        add_to(u, get(w, p + "ffn_up.bias"));
        for (double& e : u) e = gelu(e);
      } else {
        const std::vector<double> g = linear(w, p + "ffn_gate.weight", x[t]);
        for (size_t i = 0; i < u.size(); ++i) u[i] *= g[i] / (1.0 + std::exp(-g[i]));
      }
      std::vector<double> d = linear(w, p + "ffn_down.weight", u);
      if (bert) add_to(d, get(w, p + "ffn_down.bias"));
      add_to(x[t], d);
      layernorm(x[t], get(w, p + "layer_output_norm.weight"), get(w, p + "layer_output_norm.bias"), s.norm_eps);
    }
  }
  return x;
}

}  // namespace hearth::model::testing
