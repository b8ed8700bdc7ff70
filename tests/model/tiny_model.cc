#include "tiny_model.h"
#include "tiny_builder.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gguf/gguf_writer.h"
#include "quant/type_traits.h"

namespace hearth::model::testing {

// splitmix64: a tiny portable generator, so the weights are the same everywhere.
double RandomTensors::uniform() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1p-53 * 2.0 - 1.0;  // [-1,1)
}

void RandomTensors::add(const std::string& name, gguf::GgmlType type, std::vector<int64_t> ne,
                        double scale, double center) {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  std::vector<float> src(static_cast<size_t>(n));
  for (auto& v : src) v = static_cast<float>(center + scale * uniform());
  const quant::TypeTraits& ref = quant::traits(type, CpuTier::ref);
  const size_t bytes = static_cast<size_t>(n / ref.block_elems * ref.block_bytes);
  std::vector<uint8_t> q(bytes);
  ref.from_float(src.data(), q.data(), n);
  RefTensor t;
  t.ne = ne;
  std::vector<float> deq(static_cast<size_t>(n));
  ref.to_float(q.data(), deq.data(), n);
  t.value.assign(deq.begin(), deq.end());
  if (name != skip_) writer_.add_tensor(name, type, std::move(ne), q.data(), bytes);
  weights_[name] = std::move(t);
}

std::vector<uint8_t> write_tiny_model(const TinySpec& s, RefWeights* weights) {
  if (s.arch == "deepseek2") return write_deepseek2(s, weights);
  if (s.arch == "gpt-oss") return write_gpt_oss(s, weights);
  gguf::Writer w;
  RandomTensors b(w, *weights, s.seed, s.skip_tensor);
  weights->clear();
  const std::string a = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  if (s.head_dim * s.n_head != s.n_embd) {
    w.set_u32(a + "attention.key_length", static_cast<uint32_t>(s.head_dim));
    w.set_u32(a + "attention.value_length", static_cast<uint32_t>(s.head_dim));
  }
  w.set_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_f32(a + "rope.freq_base", s.rope_base);
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(s.head_dim));
  if (s.n_expert > 0) {
    w.set_u32(a + "expert_count", static_cast<uint32_t>(s.n_expert));
    w.set_u32(a + "expert_used_count", static_cast<uint32_t>(s.n_expert_used));
    w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(s.n_ff));
  }
  if (s.window > 0) w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(s.window));
  if (s.attn_softcap > 0.0f) w.set_f32(a + "attn_logit_softcapping", s.attn_softcap);
  if (s.final_softcap > 0.0f) w.set_f32(a + "final_logit_softcapping", s.final_softcap);
  if (s.rope_scale > 0.0f) {
    w.set_string(a + "rope.scaling.type", "linear");
    w.set_f32(a + "rope.scaling.factor", s.rope_scale);
  }
  if (s.rope_orig_ctx > 0) {
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(s.rope_orig_ctx));
    w.set_f32(a + "rope.scaling.attn_factor", s.rope_attn_factor);
  }

  const int64_t q_w = s.n_head * s.head_dim, kv_w = s.n_head_kv * s.head_dim;
  b.add("token_embd.weight", s.embd_type, {s.n_embd, s.n_vocab}, 1.0);
  b.add("output_norm.weight", gguf::GgmlType::F32, {s.n_embd}, 0.2, 1.0);
  if (!s.tied) b.add("output.weight", s.output_type, {s.n_embd, s.n_vocab}, rms_scale(s.n_embd));
  // A per-frequency divisor table of head_dim / 2 values rising from 1 to `top` (kept F32).
  auto factors = [&](const std::string& name, float top) {
    std::vector<float> f(static_cast<size_t>(s.head_dim / 2));
    for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + (top - 1.0f) * static_cast<float>(i) / (f.size() - 1);
    if (name != s.skip_tensor) w.add_tensor(name, gguf::GgmlType::F32, {s.head_dim / 2}, f.data(), f.size() * 4);
    RefTensor t;
    t.ne = {s.head_dim / 2};
    t.value.assign(f.begin(), f.end());
    (*weights)[name] = t;
  };
  if (s.rope_freqs) factors("rope_freqs.weight", 8.0f);  // Llama 3 style: 1 to 8
  if (s.rope_orig_ctx > 0) {  // LongRoPE: two tables, so using the wrong one shows
    factors("rope_factors_short.weight", 1.5f);
    factors("rope_factors_long.weight", 12.0f);
  }
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const gguf::GgmlType wt = s.weight_type;
    const bool gemma = s.arch == "gemma2" || s.arch == "gemma3";
    b.add(p + "attn_norm.weight", gguf::GgmlType::F32, {s.n_embd}, 0.2, 1.0);
    if (s.arch == "phi3") {
      b.add(p + "attn_qkv.weight", wt, {s.n_embd, q_w + 2 * kv_w}, rms_scale(s.n_embd));
    } else {
      b.add(p + "attn_q.weight", wt, {s.n_embd, q_w}, rms_scale(s.n_embd));
      b.add(p + "attn_k.weight", wt, {s.n_embd, kv_w}, rms_scale(s.n_embd));
      b.add(p + "attn_v.weight", wt, {s.n_embd, kv_w}, rms_scale(s.n_embd));
    }
    b.add(p + "attn_output.weight", wt, {q_w, s.n_embd}, rms_scale(q_w));
    if (s.arch == "qwen2") {
      b.add(p + "attn_q.bias", gguf::GgmlType::F32, {q_w}, 0.5);
      b.add(p + "attn_k.bias", gguf::GgmlType::F32, {kv_w}, 0.5);
      b.add(p + "attn_v.bias", gguf::GgmlType::F32, {kv_w}, 0.5);
    }
    if (s.arch == "qwen3" || s.arch == "qwen3moe" || s.arch == "gemma3") {
      b.add(p + "attn_q_norm.weight", gguf::GgmlType::F32, {s.head_dim}, 0.3, 1.0);
      b.add(p + "attn_k_norm.weight", gguf::GgmlType::F32, {s.head_dim}, 0.3, 1.0);
    }
    b.add(p + "ffn_norm.weight", gguf::GgmlType::F32, {s.n_embd}, 0.2, 1.0);
    if (gemma) {
      b.add(p + "post_attention_norm.weight", gguf::GgmlType::F32, {s.n_embd}, 0.2, 1.0);
      b.add(p + "post_ffw_norm.weight", gguf::GgmlType::F32, {s.n_embd}, 0.2, 1.0);
    }
    if (s.arch == "phi3") {  // gate and up fused: [gate; up] rows
      b.add(p + "ffn_up.weight", wt, {s.n_embd, 2 * s.n_ff}, rms_scale(s.n_embd));
      b.add(p + "ffn_down.weight", wt, {s.n_ff, s.n_embd}, rms_scale(s.n_ff));
      continue;
    }
    if (s.n_expert > 0) {
      // The router is F32 in real files too (llama.cpp's quantizer keeps ffn_gate_inp unquantized).
      b.add(p + "ffn_gate_inp.weight", gguf::GgmlType::F32, {s.n_embd, s.n_expert}, 4 * rms_scale(s.n_embd));
      b.add(p + "ffn_gate_exps.weight", wt, {s.n_embd, s.n_ff, s.n_expert}, rms_scale(s.n_embd));
      b.add(p + "ffn_up_exps.weight", wt, {s.n_embd, s.n_ff, s.n_expert}, rms_scale(s.n_embd));
      b.add(p + "ffn_down_exps.weight", wt, {s.n_ff, s.n_embd, s.n_expert}, rms_scale(s.n_ff));
      continue;
    }
    b.add(p + "ffn_gate.weight", wt, {s.n_embd, s.n_ff}, rms_scale(s.n_embd));
    b.add(p + "ffn_up.weight", wt, {s.n_embd, s.n_ff}, rms_scale(s.n_embd));
    b.add(p + "ffn_down.weight", wt, {s.n_ff, s.n_embd}, rms_scale(s.n_ff));
  }
  if (s.edit) s.edit(w);
  return w.to_bytes();
}

RefModel::RefModel(const TinySpec& spec, const RefWeights& weights, int64_t n_ctx)
    : s_(spec), w_(weights), n_ctx_(n_ctx), k_cache_(spec.n_layer), v_cache_(spec.n_layer) {}

const RefTensor& RefModel::w(const std::string& name) const {
  auto it = w_.find(name);
  if (it == w_.end()) throw std::runtime_error("reference: no tensor " + name);
  return it->second;
}

std::vector<double> RefModel::matvec(const std::string& name, const std::vector<double>& x) const {
  const RefTensor& t = w(name);
  const int64_t cols = t.ne[0], rows = t.ne[1];
  std::vector<double> y(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double acc = 0.0;
    for (int64_t c = 0; c < cols; ++c) acc += t.value[r * cols + c] * x[c];
    y[r] = acc;
  }
  return y;
}

std::vector<double> RefModel::expert_matvec(const std::string& name, int e, const std::vector<double>& x) const {
  const RefTensor& t = w(name);
  const int64_t cols = t.ne[0], rows = t.ne[1];
  std::vector<double> y(static_cast<size_t>(rows), 0.0);
  const double* base = t.value.data() + static_cast<size_t>(e) * rows * cols;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) y[r] += base[r * cols + c] * x[c];
  }
  return y;
}

namespace {

// Rotates one head in place. Llama pairs neighbours (2i, 2i+1); NeoX pairs i with i + d/2.
// Pair i turns by pos * scale * base^(-2i/d) / f[i]; cos and sin are multiplied by mscale.
void rotate(double* h, int64_t d, int64_t pos, double base, bool neox, const std::vector<double>* f,
            double scale = 1.0, double mscale = 1.0) {
  for (int64_t i = 0; i < d / 2; ++i) {
    double freq = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(d));
    if (f != nullptr) freq /= (*f)[i];
    const double ang = static_cast<double>(pos) * scale * freq;
    const int64_t a = neox ? i : 2 * i, b = neox ? i + d / 2 : 2 * i + 1;
    const double x0 = h[a], x1 = h[b];
    h[a] = mscale * (x0 * std::cos(ang) - x1 * std::sin(ang));
    h[b] = mscale * (x0 * std::sin(ang) + x1 * std::cos(ang));
  }
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }
// GELU, tanh form (what Gemma's GeGLU uses).
double gelu(double x) {
  const double k = std::sqrt(2.0 / 3.14159265358979323846);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

bool is_gemma(const std::string& arch) { return arch == "gemma2" || arch == "gemma3"; }

}  // namespace

// One layer's attention over the normed input h (this row's K/V join the layer's cache).
std::vector<double> RefModel::attention(int64_t il, const std::vector<double>& h) {
  const int64_t D = s_.head_dim, H = s_.n_head, HKV = s_.n_head_kv;
  const std::string p = "blk." + std::to_string(il) + ".";
  std::vector<double> q, k, v;
  if (s_.arch == "phi3") {  // fused: rows [q; k; v]
    const std::vector<double> qkv = matvec(p + "attn_qkv.weight", h);
    q.assign(qkv.begin(), qkv.begin() + H * D);
    k.assign(qkv.begin() + H * D, qkv.begin() + (H + HKV) * D);
    v.assign(qkv.begin() + (H + HKV) * D, qkv.end());
  } else {
    q = matvec(p + "attn_q.weight", h);
    k = matvec(p + "attn_k.weight", h);
    v = matvec(p + "attn_v.weight", h);
  }
  if (s_.arch == "qwen2") {
    for (size_t i = 0; i < q.size(); ++i) q[i] += w(p + "attn_q.bias").value[i];
    for (size_t i = 0; i < k.size(); ++i) k[i] += w(p + "attn_k.bias").value[i];
    for (size_t i = 0; i < v.size(); ++i) v[i] += w(p + "attn_v.bias").value[i];
  }
  if (s_.arch == "qwen3" || s_.arch == "qwen3moe" || s_.arch == "gemma3") {
    for (int64_t hh = 0; hh < H; ++hh) rmsnorm(q, hh * D, D, w(p + "attn_q_norm.weight").value, s_.rms_eps);
    for (int64_t hh = 0; hh < HKV; ++hh) rmsnorm(k, hh * D, D, w(p + "attn_k_norm.weight").value, s_.rms_eps);
  }
  // Per layer: which positions it sees, its RoPE, its score scale and cap.
  const bool neox = s_.arch != "llama";
  double base = s_.rope_base, rope_scale = 1.0, mscale = 1.0;
  int64_t window = 0;
  const std::vector<double>* freqs = s_.rope_freqs ? &w("rope_freqs.weight").value : nullptr;
  if (s_.arch == "gemma2" && il % 2 == 0) window = s_.window;
  if (s_.arch == "gemma3") {
    if ((il + 1) % 6 == 0) {  // global: the file's base, linear scaling
      if (s_.rope_scale > 0.0f) rope_scale = 1.0 / s_.rope_scale;
    } else {                  // local: window, base 10000 unscaled
      window = s_.window;
      base = 10000.0;
    }
  }
  if (s_.arch == "phi3" && s_.rope_orig_ctx > 0) {
    freqs = &w(n_ctx_ > s_.rope_orig_ctx ? "rope_factors_long.weight" : "rope_factors_short.weight").value;
    mscale = s_.rope_attn_factor;
  }
  for (int64_t hh = 0; hh < H; ++hh) rotate(&q[hh * D], D, pos_, base, neox, freqs, rope_scale, mscale);
  for (int64_t hh = 0; hh < HKV; ++hh) rotate(&k[hh * D], D, pos_, base, neox, freqs, rope_scale, mscale);
  auto& kc = k_cache_[il];
  auto& vc = v_cache_[il];
  kc.insert(kc.end(), k.begin(), k.end());
  vc.insert(vc.end(), v.begin(), v.end());
  const int64_t n_pos = pos_ + 1;
  const int64_t first = window > 0 ? std::max<int64_t>(0, pos_ - window + 1) : 0;
  // Gemma's query_pre_attn_scalar is head_dim for these shapes (the 27B rule is tested apart).
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> att(static_cast<size_t>(H * D), 0.0);
  for (int64_t hh = 0; hh < H; ++hh) {
    const int64_t kvh = hh / (H / HKV);
    std::vector<double> sc(static_cast<size_t>(n_pos), 0.0);
    double mx = -1e300;
    for (int64_t t = first; t < n_pos; ++t) {
      double d = 0.0;
      for (int64_t i = 0; i < D; ++i) d += q[hh * D + i] * kc[(t * HKV + kvh) * D + i];
      sc[t] = d * scale;
      if (s_.attn_softcap > 0.0f) sc[t] = s_.attn_softcap * std::tanh(sc[t] / s_.attn_softcap);
      mx = std::max(mx, sc[t]);
    }
    double sum = 0.0;
    for (int64_t t = first; t < n_pos; ++t) sum += (sc[t] = std::exp(sc[t] - mx));
    for (int64_t t = first; t < n_pos; ++t) {
      for (int64_t i = 0; i < D; ++i) att[hh * D + i] += sc[t] / sum * vc[(t * HKV + kvh) * D + i];
    }
  }
  return matvec(p + "attn_output.weight", att);
}

// One layer's feed-forward block over the normed input h.
std::vector<double> RefModel::ffn(int64_t il, const std::vector<double>& h) {
  const int64_t E = s_.n_embd;
  const std::string p = "blk." + std::to_string(il) + ".";
  std::vector<double> out(static_cast<size_t>(E), 0.0);
  if (s_.n_expert > 0) {
    // Qwen3-MoE: softmax over the router's logits, the n_expert_used most probable experts,
    // their probabilities renormalized to sum 1 (norm_topk_prob), a SwiGLU FFN each.
    const std::vector<double> logits = matvec(p + "ffn_gate_inp.weight", h);
    const double mx = *std::max_element(logits.begin(), logits.end());
    std::vector<double> prob(logits.size());
    double total = 0.0;
    for (size_t e = 0; e < prob.size(); ++e) total += prob[e] = std::exp(logits[e] - mx);
    std::vector<int> order(prob.size());
    for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int>(e);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[a] > prob[b]; });
    double chosen = 0.0;
    for (int j = 0; j < s_.n_expert_used; ++j) chosen += prob[order[j]] / total;
    for (int j = 0; j < s_.n_expert_used; ++j) {
      const int e = order[j];
      const double weight = prob[e] / total / chosen;
      std::vector<double> g = expert_matvec(p + "ffn_gate_exps.weight", e, h);
      std::vector<double> u = expert_matvec(p + "ffn_up_exps.weight", e, h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
      std::vector<double> d = expert_matvec(p + "ffn_down_exps.weight", e, g);
      for (int64_t i = 0; i < E; ++i) out[i] += weight * d[i];
    }
    return out;
  }
  std::vector<double> g, u;
  if (s_.arch == "phi3") {  // fused: rows [gate; up]
    const std::vector<double> gu = matvec(p + "ffn_up.weight", h);
    g.assign(gu.begin(), gu.begin() + s_.n_ff);
    u.assign(gu.begin() + s_.n_ff, gu.end());
  } else {
    g = matvec(p + "ffn_gate.weight", h);
    u = matvec(p + "ffn_up.weight", h);
  }
  for (size_t i = 0; i < g.size(); ++i) g[i] = (is_gemma(s_.arch) ? gelu(g[i]) : silu(g[i])) * u[i];
  return matvec(p + "ffn_down.weight", g);
}

std::vector<double> RefModel::step(int32_t token) {
  if (s_.arch == "deepseek2") return step_deepseek2(token);
  if (s_.arch == "gpt-oss") return step_gpt_oss(token);
  const int64_t E = s_.n_embd;
  const bool gemma = is_gemma(s_.arch);
  const RefTensor& embd = w("token_embd.weight");
  std::vector<double> x(embd.value.begin() + token * E, embd.value.begin() + (token + 1) * E);
  if (gemma) {
    for (double& e : x) e *= std::sqrt(static_cast<double>(E));
  }
  for (int64_t il = 0; il < s_.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    std::vector<double> h = x;
    rmsnorm(h, 0, E, w(p + "attn_norm.weight").value, s_.rms_eps);
    std::vector<double> o = attention(il, h);
    if (gemma) rmsnorm(o, 0, E, w(p + "post_attention_norm.weight").value, s_.rms_eps);
    for (int64_t i = 0; i < E; ++i) x[i] += o[i];
    h = x;
    rmsnorm(h, 0, E, w(p + "ffn_norm.weight").value, s_.rms_eps);
    o = ffn(il, h);
    if (gemma) rmsnorm(o, 0, E, w(p + "post_ffw_norm.weight").value, s_.rms_eps);
    for (int64_t i = 0; i < E; ++i) x[i] += o[i];
  }
  ++pos_;
  rmsnorm(x, 0, E, w("output_norm.weight").value, s_.rms_eps);
  std::vector<double> logits = matvec(s_.tied ? "token_embd.weight" : "output.weight", x);
  if (s_.final_softcap > 0.0f) {
    for (double& l : logits) l = s_.final_softcap * std::tanh(l / s_.final_softcap);
  }
  return logits;
}

double rel_error(const float* a, const std::vector<double>& b) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

}  // namespace hearth::model::testing
