// The tiny deepseek2 model: its writer and its reference forward pass, written from DeepSeek-V2/V3's
// definition in the EXPANDED form (each head's keys and values decompressed from the latent and
// cached per head), so it checks the engine's absorbed MLA rather than repeating it.

#include <algorithm>
#include <cmath>
#include <limits>

#include "tiny_builder.h"
#include "tiny_model.h"

namespace hearth::model::testing {

namespace {

// DeepSeek's RoPE part pairs neighbours (2i, 2i+1), as llama.cpp's NORM mode does on GGUF weights.
void rope_pairs(double* x, int64_t d, int64_t pos, double base, const DeepseekSpec& ds) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const double a = yarn_angle(pos, i, d, base, ds.yarn_factor, ds.yarn_orig_ctx);
    const double x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * std::cos(a) - x1 * std::sin(a);
    x[2 * i + 1] = x0 * std::sin(a) + x1 * std::cos(a);
  }
}

double silu(double g) { return g / (1.0 + std::exp(-g)); }

}  // namespace

TinySpec tiny_deepseek2(bool v3, gguf::GgmlType wt) {
  TinySpec s;
  s.arch = "deepseek2";
  s.weight_type = s.embd_type = s.output_type = wt;
  s.n_layer = 3;
  s.head_dim = 24;
  s.n_head_kv = 4;
  s.n_ff = 128;
  s.n_expert = 8;
  s.n_expert_used = 2;
  s.rms_eps = 1e-6f;
  s.ds.q_lora_rank = v3 ? 32 : 0;
  s.ds.sigmoid = v3;
  s.ds.normalize = v3;
  s.ds.weights_scale = v3 ? 2.5f : 1.0f;
  s.ds.n_group = v3 ? 4 : 1;
  s.ds.n_group_used = v3 ? 2 : 1;
  s.ds.yarn_factor = v3 ? 4.0f : 0.0f;
  return s;
}

std::vector<uint8_t> write_deepseek2(const TinySpec& s, RefWeights* weights) {
  weights->clear();
  gguf::Writer w;
  RandomTensors b(w, *weights, s.seed, s.skip_tensor);
  const DeepseekSpec& d = s.ds;
  const std::string a = "deepseek2.";
  const int64_t H = s.n_head, dk = s.head_dim, nope = dk - d.rope_dim, L = d.kv_lora_rank;
  w.set_string("general.architecture", "deepseek2");
  w.set_u32(a + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + "block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(H));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(H));
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(dk));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(d.head_dim_v));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_f32(a + "rope.freq_base", s.rope_base);
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(d.rope_dim));
  if (d.q_lora_rank > 0) w.set_u32(a + "attention.q_lora_rank", static_cast<uint32_t>(d.q_lora_rank));
  w.set_u32(a + "attention.kv_lora_rank", static_cast<uint32_t>(L));
  w.set_u32(a + "leading_dense_block_count", static_cast<uint32_t>(d.n_dense));
  w.set_u32(a + "expert_count", static_cast<uint32_t>(s.n_expert));
  w.set_u32(a + "expert_used_count", static_cast<uint32_t>(s.n_expert_used));
  w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(s.n_ff / 2));
  w.set_u32(a + "expert_shared_count", static_cast<uint32_t>(d.n_shared));
  w.set_f32(a + "expert_weights_scale", d.weights_scale);
  w.set_bool(a + "expert_weights_norm", d.normalize);
  w.set_u32(a + "expert_gating_func", d.sigmoid ? 2u : 1u);
  w.set_u32(a + "expert_group_count", static_cast<uint32_t>(d.n_group));
  w.set_u32(a + "expert_group_used_count", static_cast<uint32_t>(d.n_group_used));
  if (d.yarn_factor > 0.0f) {
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", d.yarn_factor);
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(d.yarn_orig_ctx));
    w.set_f32(a + "rope.scaling.yarn_log_multiplier", d.yarn_log_mul);
  }

  const gguf::GgmlType wt = s.weight_type, f32 = gguf::GgmlType::F32;
  const int64_t E = s.n_embd, ffe = s.n_ff / 2;
  b.add("token_embd.weight", s.embd_type, {E, s.n_vocab}, 1.0);
  b.add("output_norm.weight", f32, {E}, 0.2, 1.0);
  b.add("output.weight", s.output_type, {E, s.n_vocab}, rms_scale(E));
  for (int64_t il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    b.add(p + "attn_norm.weight", f32, {E}, 0.2, 1.0);
    if (d.q_lora_rank > 0) {
      b.add(p + "attn_q_a.weight", wt, {E, d.q_lora_rank}, rms_scale(E));
      b.add(p + "attn_q_a_norm.weight", f32, {d.q_lora_rank}, 0.2, 1.0);
      b.add(p + "attn_q_b.weight", wt, {d.q_lora_rank, H * dk}, rms_scale(d.q_lora_rank));
    } else {
      b.add(p + "attn_q.weight", wt, {E, H * dk}, rms_scale(E));
    }
    b.add(p + "attn_kv_a_mqa.weight", wt, {E, L + d.rope_dim}, rms_scale(E));
    b.add(p + "attn_kv_a_norm.weight", f32, {L}, 0.2, 1.0);
    // attn_kv_b has the layers' type (the engine re-stores the transposed Wkb_h: F32 stays F32,
    // others become Q8_0 or F16); in the newer layout it is drawn the same way (F32) but only its
    // k_b / v_b rearrangement is written.
    const std::string skip = b.skipped();
    if (d.split_kv_b) b.skip(p + "attn_kv_b.weight");
    b.add(p + "attn_kv_b.weight", d.split_kv_b ? f32 : wt, {L, H * (nope + d.head_dim_v)}, rms_scale(L));
    b.skip(skip);
    if (d.split_kv_b) {
      // The newer layout: attn_k_b [n_head][L][nope] (Wkb_h transposed), attn_v_b [n_head][dv][L].
      const RefTensor kvb = (*weights)[p + "attn_kv_b.weight"];
      std::vector<float> kb, vb;
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t j = 0; j < L; ++j) {
          for (int64_t i = 0; i < nope; ++i) kb.push_back(static_cast<float>(kvb.value[(h * (nope + d.head_dim_v) + i) * L + j]));
        }
      }
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t r = 0; r < d.head_dim_v; ++r) {
          for (int64_t j = 0; j < L; ++j) vb.push_back(static_cast<float>(kvb.value[(h * (nope + d.head_dim_v) + nope + r) * L + j]));
        }
      }
      w.add_tensor(p + "attn_k_b.weight", f32, {nope, L, H}, kb.data(), kb.size() * 4);
      w.add_tensor(p + "attn_v_b.weight", f32, {L, d.head_dim_v, H}, vb.data(), vb.size() * 4);
    }
    b.add(p + "attn_output.weight", wt, {H * d.head_dim_v, E}, rms_scale(H * d.head_dim_v));
    b.add(p + "ffn_norm.weight", f32, {E}, 0.2, 1.0);
    if (il < d.n_dense) {
      b.add(p + "ffn_gate.weight", wt, {E, s.n_ff}, rms_scale(E));
      b.add(p + "ffn_up.weight", wt, {E, s.n_ff}, rms_scale(E));
      b.add(p + "ffn_down.weight", wt, {s.n_ff, E}, rms_scale(s.n_ff));
      continue;
    }
    b.add(p + "ffn_gate_inp.weight", f32, {E, s.n_expert}, 4 * rms_scale(E));
    if (d.sigmoid) b.add(p + "exp_probs_b.bias", f32, {s.n_expert}, 0.3);
    b.add(p + "ffn_gate_exps.weight", wt, {E, ffe, s.n_expert}, rms_scale(E));
    b.add(p + "ffn_up_exps.weight", wt, {E, ffe, s.n_expert}, rms_scale(E));
    b.add(p + "ffn_down_exps.weight", wt, {ffe, E, s.n_expert}, rms_scale(ffe));
    if (d.n_shared > 0) {
      b.add(p + "ffn_gate_shexp.weight", wt, {E, ffe * d.n_shared}, rms_scale(E));
      b.add(p + "ffn_up_shexp.weight", wt, {E, ffe * d.n_shared}, rms_scale(E));
      b.add(p + "ffn_down_shexp.weight", wt, {ffe * d.n_shared, E}, rms_scale(ffe * d.n_shared));
    }
  }
  if (s.edit) s.edit(w);
  return w.to_bytes();
}

// DeepSeek's router: p = softmax or sigmoid of the logits; choice by p + bias, first among the
// best groups (a group scored by its best member, or with sigmoid its best two summed), then the
// best n_expert_used; weights p, normalized to sum 1 if asked, times the scale.
std::vector<double> RefModel::deepseek_moe(const std::string& p, const std::vector<double>& h) const {
  const DeepseekSpec& d = s_.ds;
  const int64_t E = s_.n_embd, n = s_.n_expert;
  const std::vector<double> logits = matvec(p + "ffn_gate_inp.weight", h);
  std::vector<double> prob(static_cast<size_t>(n)), score(static_cast<size_t>(n));
  const double mx = *std::max_element(logits.begin(), logits.end());
  double total = 0.0;
  for (int64_t e = 0; e < n; ++e) {
    prob[e] = d.sigmoid ? 1.0 / (1.0 + std::exp(-logits[e])) : std::exp(logits[e] - mx);
    total += prob[e];
  }
  for (int64_t e = 0; e < n; ++e) {
    if (!d.sigmoid) prob[e] /= total;
    score[e] = prob[e] + (d.sigmoid ? w(p + "exp_probs_b.bias").value[e] : 0.0);
  }
  const int64_t per = n / d.n_group;
  std::vector<std::pair<double, int>> groups;
  for (int g = 0; g < d.n_group; ++g) {
    std::vector<double> m(score.begin() + g * per, score.begin() + (g + 1) * per);
    std::sort(m.rbegin(), m.rend());
    groups.push_back({-(d.sigmoid && per > 1 ? m[0] + m[1] : m[0]), g});
  }
  std::sort(groups.begin(), groups.end());
  std::vector<std::pair<double, int>> cand;
  for (int j = 0; j < d.n_group_used; ++j) {
    for (int64_t i = 0; i < per; ++i) {
      const int e = static_cast<int>(groups[j].second * per + i);
      cand.push_back({-score[e], e});
    }
  }
  std::sort(cand.begin(), cand.end());
  double chosen = 0.0;
  for (int j = 0; j < s_.n_expert_used; ++j) chosen += prob[cand[j].second];
  std::vector<double> out(static_cast<size_t>(E), 0.0);
  for (int j = 0; j < s_.n_expert_used; ++j) {
    const int e = cand[j].second;
    const double weight = prob[e] / (d.normalize ? chosen : 1.0) * d.weights_scale;
    std::vector<double> g = expert_matvec(p + "ffn_gate_exps.weight", e, h);
    const std::vector<double> u = expert_matvec(p + "ffn_up_exps.weight", e, h);
    for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
    const std::vector<double> dn = expert_matvec(p + "ffn_down_exps.weight", e, g);
    for (int64_t i = 0; i < E; ++i) out[i] += weight * dn[i];
  }
  if (d.n_shared > 0) {
    std::vector<double> g = matvec(p + "ffn_gate_shexp.weight", h);
    const std::vector<double> u = matvec(p + "ffn_up_shexp.weight", h);
    for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
    const std::vector<double> dn = matvec(p + "ffn_down_shexp.weight", g);
    for (int64_t i = 0; i < E; ++i) out[i] += dn[i];
  }
  return out;
}

std::vector<double> RefModel::step_deepseek2(int32_t token) {
  const DeepseekSpec& d = s_.ds;
  const int64_t E = s_.n_embd, H = s_.n_head, dk = s_.head_dim, R = d.rope_dim, nope = dk - R;
  const int64_t L = d.kv_lora_rank, dv = d.head_dim_v;
  double mscale = 1.0;
  if (d.yarn_factor > 0.0f) mscale = 1.0 + d.yarn_log_mul * std::log(static_cast<double>(d.yarn_factor));
  const double scale = mscale * mscale / std::sqrt(static_cast<double>(dk));
  const RefTensor& embd = w("token_embd.weight");
  std::vector<double> x(embd.value.begin() + token * E, embd.value.begin() + (token + 1) * E);
  for (int64_t il = 0; il < s_.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    std::vector<double> h = x;
    rmsnorm(h, 0, E, w(p + "attn_norm.weight").value, s_.rms_eps);
    std::vector<double> q;
    if (d.q_lora_rank > 0) {
      std::vector<double> qa = matvec(p + "attn_q_a.weight", h);
      rmsnorm(qa, 0, d.q_lora_rank, w(p + "attn_q_a_norm.weight").value, s_.rms_eps);
      q = matvec(p + "attn_q_b.weight", qa);
    } else {
      q = matvec(p + "attn_q.weight", h);
    }
    std::vector<double> kva = matvec(p + "attn_kv_a_mqa.weight", h);
    std::vector<double> c(kva.begin(), kva.begin() + L), k_pe(kva.begin() + L, kva.end());
    rmsnorm(c, 0, L, w(p + "attn_kv_a_norm.weight").value, s_.rms_eps);
    rope_pairs(k_pe.data(), R, pos_, s_.rope_base, d);
    const std::vector<double> kv = matvec(p + "attn_kv_b.weight", c);  // per head: k_nope, v
    auto& kc = k_cache_[il];
    auto& vc = v_cache_[il];
    for (int64_t hh = 0; hh < H; ++hh) {
      rope_pairs(&q[hh * dk + nope], R, pos_, s_.rope_base, d);
      const double* kvh = &kv[hh * (nope + dv)];
      kc.insert(kc.end(), kvh, kvh + nope);
      kc.insert(kc.end(), k_pe.begin(), k_pe.end());
      vc.insert(vc.end(), kvh + nope, kvh + nope + dv);
    }
    const int64_t n_pos = pos_ + 1;
    std::vector<double> att(static_cast<size_t>(H * dv), 0.0);
    for (int64_t hh = 0; hh < H; ++hh) {
      std::vector<double> sc(static_cast<size_t>(n_pos));
      for (int64_t t = 0; t < n_pos; ++t) {
        double dot = 0.0;
        for (int64_t i = 0; i < dk; ++i) dot += q[hh * dk + i] * kc[(t * H + hh) * dk + i];
        sc[t] = dot * scale;
      }
      const double mx = *std::max_element(sc.begin(), sc.end());
      double sum = 0.0;
      for (auto& e : sc) sum += (e = std::exp(e - mx));
      for (int64_t t = 0; t < n_pos; ++t) {
        for (int64_t i = 0; i < dv; ++i) att[hh * dv + i] += sc[t] / sum * vc[(t * H + hh) * dv + i];
      }
    }
    const std::vector<double> o = matvec(p + "attn_output.weight", att);
    for (int64_t i = 0; i < E; ++i) x[i] += o[i];
    h = x;
    rmsnorm(h, 0, E, w(p + "ffn_norm.weight").value, s_.rms_eps);
    std::vector<double> f;
    if (il < d.n_dense) {
      std::vector<double> g = matvec(p + "ffn_gate.weight", h);
      const std::vector<double> u = matvec(p + "ffn_up.weight", h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
      f = matvec(p + "ffn_down.weight", g);
    } else {
      f = deepseek_moe(p, h);
    }
    for (int64_t i = 0; i < E; ++i) x[i] += f[i];
  }
  ++pos_;
  rmsnorm(x, 0, E, w("output_norm.weight").value, s_.rms_eps);
  return matvec("output.weight", x);
}

}  // namespace hearth::model::testing
