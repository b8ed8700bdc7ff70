// The tiny gpt-oss model: its writer and its reference forward pass, written from the model's
// definition (OpenAI's gpt-oss reference: attention with biases and a learned sink logit per
// head, alternate sliding-window layers, YaRN RoPE, a router with bias picking the top experts
// and softmaxing their logits, experts with biases and a clamped SwiGLU), in double precision.

#include <algorithm>
#include <cmath>

#include "tiny_builder.h"
#include "tiny_model.h"

namespace hearth::model::testing {

namespace {

constexpr double kAlpha = 1.702, kLimit = 7.0;

bool windowed(const TinySpec& s, int64_t il) {
  const int period = s.oss.swa_period > 0 ? s.oss.swa_period : 2;
  return il % period < period - 1;
}

// NeoX pairs (i, i + d/2), YaRN angles, cos and sin scaled by YaRN's 1 + 0.1 ln(factor).
void rope_neox(double* x, int64_t d, int64_t pos, double base, const GptOssSpec& o) {
  const double mscale = o.yarn_factor > 0.0f ? 1.0 + 0.1 * std::log(static_cast<double>(o.yarn_factor)) : 1.0;
  for (int64_t i = 0; i < d / 2; ++i) {
    const double a = yarn_angle(pos, i, d, base, o.yarn_factor, o.yarn_orig_ctx);
    const double x0 = x[i], x1 = x[i + d / 2];
    x[i] = mscale * (x0 * std::cos(a) - x1 * std::sin(a));
    x[i + d / 2] = mscale * (x0 * std::sin(a) + x1 * std::cos(a));
  }
}

void add(std::vector<double>& y, const std::vector<double>& b, size_t off = 0) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += b[off + i];
}

}  // namespace

TinySpec tiny_gpt_oss(gguf::GgmlType wt, gguf::GgmlType experts, bool period3) {
  TinySpec s;
  s.arch = "gpt-oss";
  s.weight_type = s.embd_type = s.output_type = wt;
  s.n_expert = 6;
  s.n_expert_used = 2;
  s.window = 3;
  s.rope_base = 150000.0f;
  s.oss.expert_type = experts;
  if (period3) {
    s.n_layer = 3;
    s.oss.swa_period = 3;
    s.oss.rope_base_swa = 1000.0f;
  }
  return s;
}

std::vector<uint8_t> write_gpt_oss(const TinySpec& s, RefWeights* weights) {
  weights->clear();
  gguf::Writer w;
  RandomTensors b(w, *weights, s.seed, s.skip_tensor);
  const std::string a = "gpt-oss.";
  const GptOssSpec& o = s.oss;
  w.set_string("general.architecture", "gpt-oss");
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(s.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(s.head_dim));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_f32(a + "rope.freq_base", s.rope_base);
  w.set_u32(a + "expert_count", static_cast<uint32_t>(s.n_expert));
  w.set_u32(a + "expert_used_count", static_cast<uint32_t>(s.n_expert_used));
  w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(s.window));
  if (o.swa_period > 0) w.set_u32(a + "attention.sliding_window_pattern", static_cast<uint32_t>(o.swa_period));
  if (o.rope_base_swa > 0.0f) w.set_f32(a + "rope.freq_base_swa", o.rope_base_swa);
  if (o.yarn_factor > 0.0f) {
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", o.yarn_factor);
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(o.yarn_orig_ctx));
  }

  const int64_t q_w = s.n_head * s.head_dim, kv_w = s.n_head_kv * s.head_dim, E = s.n_expert;
  const gguf::GgmlType f32 = gguf::GgmlType::F32, wt = s.weight_type, et = o.expert_type;
  b.add("token_embd.weight", s.embd_type, {s.n_embd, s.n_vocab}, 1.0);
  b.add("output_norm.weight", f32, {s.n_embd}, 0.2, 1.0);
  if (!s.tied) b.add("output.weight", s.output_type, {s.n_embd, s.n_vocab}, rms_scale(s.n_embd));
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    b.add(p + "attn_norm.weight", f32, {s.n_embd}, 0.2, 1.0);
    b.add(p + "attn_q.weight", wt, {s.n_embd, q_w}, rms_scale(s.n_embd));
    b.add(p + "attn_k.weight", wt, {s.n_embd, kv_w}, rms_scale(s.n_embd));
    b.add(p + "attn_v.weight", wt, {s.n_embd, kv_w}, rms_scale(s.n_embd));
    b.add(p + "attn_q.bias", f32, {q_w}, 0.5);
    b.add(p + "attn_k.bias", f32, {kv_w}, 0.5);
    b.add(p + "attn_v.bias", f32, {kv_w}, 0.5);
    b.add(p + "attn_output.weight", wt, {q_w, s.n_embd}, rms_scale(q_w));
    b.add(p + "attn_output.bias", f32, {s.n_embd}, 0.5);
    b.add(p + "attn_sinks.weight", f32, {s.n_head}, o.sink_scale);
    b.add(p + "post_attention_norm.weight", f32, {s.n_embd}, 0.2, 1.0);
    b.add(p + "ffn_gate_inp.weight", f32, {s.n_embd, E}, 4 * rms_scale(s.n_embd));
    b.add(p + "ffn_gate_inp.bias", f32, {E}, 0.5);
    b.add(p + "ffn_gate_exps.weight", et, {s.n_embd, s.n_ff, E}, o.expert_scale * rms_scale(s.n_embd));
    b.add(p + "ffn_up_exps.weight", et, {s.n_embd, s.n_ff, E}, o.expert_scale * rms_scale(s.n_embd));
    b.add(p + "ffn_down_exps.weight", et, {s.n_ff, s.n_embd, E}, rms_scale(s.n_ff));
    b.add(p + "ffn_gate_exps.bias", f32, {s.n_ff, E}, 0.5);
    b.add(p + "ffn_up_exps.bias", f32, {s.n_ff, E}, 0.5);
    b.add(p + "ffn_down_exps.bias", f32, {s.n_embd, E}, 0.5);
  }
  if (s.edit) s.edit(w);
  return w.to_bytes();
}

std::vector<double> RefModel::gpt_oss_attention(int64_t il, const std::vector<double>& h) {
  const int64_t D = s_.head_dim, H = s_.n_head, HKV = s_.n_head_kv;
  const std::string p = "blk." + std::to_string(il) + ".";
  std::vector<double> q = matvec(p + "attn_q.weight", h), k = matvec(p + "attn_k.weight", h),
                      v = matvec(p + "attn_v.weight", h);
  add(q, w(p + "attn_q.bias").value);
  add(k, w(p + "attn_k.bias").value);
  add(v, w(p + "attn_v.bias").value);
  const bool local = windowed(s_, il);
  const double base = local && s_.oss.rope_base_swa > 0.0f ? s_.oss.rope_base_swa : s_.rope_base;
  for (int64_t hh = 0; hh < H; ++hh) rope_neox(&q[hh * D], D, pos_, base, s_.oss);
  for (int64_t hh = 0; hh < HKV; ++hh) rope_neox(&k[hh * D], D, pos_, base, s_.oss);
  auto& kc = k_cache_[il];
  auto& vc = v_cache_[il];
  kc.insert(kc.end(), k.begin(), k.end());
  vc.insert(vc.end(), v.begin(), v.end());
  const int64_t n_pos = pos_ + 1;
  const int64_t first = local ? std::max<int64_t>(0, pos_ - s_.window + 1) : 0;
  const std::vector<double>& sinks = w(p + "attn_sinks.weight").value;
  std::vector<double> att(static_cast<size_t>(H * D), 0.0);
  for (int64_t hh = 0; hh < H; ++hh) {
    const int64_t kvh = hh / (H / HKV);
    std::vector<double> sc(static_cast<size_t>(n_pos), 0.0);
    double mx = sinks[hh];
    for (int64_t t = first; t < n_pos; ++t) {
      double d = 0.0;
      for (int64_t i = 0; i < D; ++i) d += q[hh * D + i] * kc[(t * HKV + kvh) * D + i];
      sc[t] = d / std::sqrt(static_cast<double>(D));
      mx = std::max(mx, sc[t]);
    }
    double sum = std::exp(sinks[hh] - mx);  // the sink: in the denominator, no value
    for (int64_t t = first; t < n_pos; ++t) sum += (sc[t] = std::exp(sc[t] - mx));
    for (int64_t t = first; t < n_pos; ++t) {
      for (int64_t i = 0; i < D; ++i) att[hh * D + i] += sc[t] / sum * vc[(t * HKV + kvh) * D + i];
    }
  }
  std::vector<double> out = matvec(p + "attn_output.weight", att);
  add(out, w(p + "attn_output.bias").value);
  return out;
}

std::vector<double> RefModel::gpt_oss_moe(const std::string& p, const std::vector<double>& h) const {
  const int64_t E = s_.n_embd, F = s_.n_ff;
  std::vector<double> logits = matvec(p + "ffn_gate_inp.weight", h);
  add(logits, w(p + "ffn_gate_inp.bias").value);
  std::vector<int> order(logits.size());
  for (size_t e = 0; e < order.size(); ++e) order[e] = static_cast<int>(e);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return logits[x] > logits[y]; });
  const int k = s_.n_expert_used;
  double total = 0.0;
  for (int j = 0; j < k; ++j) total += std::exp(logits[order[j]] - logits[order[0]]);
  std::vector<double> out(static_cast<size_t>(E), 0.0);
  for (int j = 0; j < k; ++j) {
    const int e = order[j];
    const double weight = std::exp(logits[e] - logits[order[0]]) / total;
    std::vector<double> g = expert_matvec(p + "ffn_gate_exps.weight", e, h);
    std::vector<double> u = expert_matvec(p + "ffn_up_exps.weight", e, h);
    add(g, w(p + "ffn_gate_exps.bias").value, static_cast<size_t>(e * F));
    add(u, w(p + "ffn_up_exps.bias").value, static_cast<size_t>(e * F));
    for (int64_t i = 0; i < F; ++i) {
      const double gc = std::min(g[i], kLimit), uc = std::clamp(u[i], -kLimit, kLimit);
      g[i] = gc / (1.0 + std::exp(-kAlpha * gc)) * (uc + 1.0);
    }
    std::vector<double> d = expert_matvec(p + "ffn_down_exps.weight", e, g);
    add(d, w(p + "ffn_down_exps.bias").value, static_cast<size_t>(e * E));
    for (int64_t i = 0; i < E; ++i) out[i] += weight * d[i];
  }
  return out;
}

std::vector<double> RefModel::step_gpt_oss(int32_t token) {
  const int64_t E = s_.n_embd;
  const RefTensor& embd = w("token_embd.weight");
  std::vector<double> x(embd.value.begin() + token * E, embd.value.begin() + (token + 1) * E);
  for (int64_t il = 0; il < s_.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    std::vector<double> h = x;
    rmsnorm(h, 0, E, w(p + "attn_norm.weight").value, s_.rms_eps);
    add(x, gpt_oss_attention(il, h));
    h = x;
    rmsnorm(h, 0, E, w(p + "post_attention_norm.weight").value, s_.rms_eps);
    add(x, gpt_oss_moe(p, h));
  }
  ++pos_;
  rmsnorm(x, 0, E, w("output_norm.weight").value, s_.rms_eps);
  return matvec(s_.tied ? "token_embd.weight" : "output.weight", x);
}

}  // namespace hearth::model::testing
