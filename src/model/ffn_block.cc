// The feed-forward blocks.
//   DenseFfn:  out = Wdown (act(Wgate xn) * (Wup xn))   act = silu (SwiGLU), gelu (GeGLU) or
//              gpt-oss's clamped SwiGLU (act(g) * u is then min(g,L) sigmoid(a min(g,L)) (clamp(u)+1))
//              (Wgate, Wup may be the two halves of one fused ffn_up, gate first: Phi-3)
//   MoeFfn:    r = Wrouter xn [n, n_expert]; the top-k experts of each row with their weights
//              (ops::topk_gating); each chosen expert e runs DenseFfn's math with its own slices
//              of the stacked ffn_{gate,up,down}_exps (+ its rows of their biases, and the router's
//              bias, when the spec has them: gpt-oss); out = sum_j w_j expert_j(xn)
//              (+ the shared experts' dense FFN, ffn_*_shexp, on every row).

#include "model/blocks.h"
#include "util/error.h"

namespace hearth::model {

namespace {

// gate = act(gate) * up over n values, with the activation the spec names.
void activate(ops::Backend& be, const FfnSpec& s, const ops::Tensor& gate, const ops::Tensor& up,
              int64_t n) {
  switch (s.act) {
    case GateActivation::silu: be.swiglu(gate, up, n, gate); break;
    case GateActivation::gelu: be.geglu(gate, up, n, gate); break;
    case GateActivation::swiglu_oai: be.swiglu_oai(gate, up, n, s.oai_alpha, s.oai_limit, gate); break;
  }
}

class DenseFfn final : public FfnBlock {
 public:
  // suffix: "" for a dense layer, "_shexp" for a MoE layer's shared experts.
  // spec: its activation (and, for a dense layer, gate_up); n_ff: its width.
  DenseFfn(const FfnSpec& spec, int64_t n_ff, const WeightLoader& w, ops::Backend& be,
           const std::string& p, const std::string& suffix, int64_t n_embd,
           GateUpWeights gate_up = GateUpWeights::separate)
      : s_(spec), n_ff_(n_ff) {
    if (gate_up == GateUpWeights::fused) {
      const std::string fused = p + "ffn_up" + suffix + ".weight";
      gate_ = w.matrix_rows(be, fused, n_embd, 2 * n_ff, 0, n_ff);
      up_ = w.matrix_rows(be, fused, n_embd, 2 * n_ff, n_ff, n_ff);
    } else {
      gate_ = w.matrix(be, p + "ffn_gate" + suffix + ".weight", n_embd, n_ff);
      up_ = w.matrix(be, p + "ffn_up" + suffix + ".weight", n_embd, n_ff);
    }
    down_ = w.matrix(be, p + "ffn_down" + suffix + ".weight", n_ff, n_embd);
  }

  void forward(const Step& st, const ops::Tensor& xn, const ops::Tensor& out) const override {
    const int64_t n = st.rows.n;
    ops::Backend& be = st.scratch.backend();
    const ops::Tensor& gate = st.scratch.get(Buf::gate, n_ff_, n);
    const ops::Tensor& up = st.scratch.get(Buf::up, n_ff_, n);
    const ops::MatmulJob gate_up[] = {{&gate_, &gate}, {&up_, &up}};
    be.matmul_many(gate_up, 2, xn, n);
    activate(be, s_, gate, up, n * n_ff_);
    be.matmul(down_, gate, n, out);
  }

 private:
  FfnSpec s_;
  int64_t n_ff_;
  ops::Tensor gate_, up_, down_;
};

class MoeFfn final : public FfnBlock {
 public:
  MoeFfn(const FfnSpec& spec, const WeightLoader& w, ops::Backend& be, const std::string& p,
         int64_t n_embd)
      : s_(spec) {
    if (s_.n_expert < 1 || s_.gating.k < 1 || s_.gating.k > s_.n_expert) {
      throw Error(ErrorCode::corrupt, "expert counts are inconsistent (" +
                                          std::to_string(s_.gating.k) + " used of " +
                                          std::to_string(s_.n_expert) + ")");
    }
    router_ = w.matrix(be, p + "ffn_gate_inp.weight", n_embd, s_.n_expert);
    const WeightLoader::Use use = s_.experts_in_place ? WeightLoader::Use::matmul_in_place : WeightLoader::Use::matmul;
    const bool interleaved = s_.gate_up == GateUpWeights::interleaved;
    if (interleaved) {
      const std::string gate_up = p + "ffn_gate_up_exps.weight";
      gate_ = w.stack_rows_every(be, gate_up, n_embd, 2 * s_.n_ff, 0, 2, s_.n_expert, gate_bytes_);
      up_ = w.stack_rows_every(be, gate_up, n_embd, 2 * s_.n_ff, 1, 2, s_.n_expert, up_bytes_);
    } else {
      gate_ = w.stack(be, p + "ffn_gate_exps.weight", n_embd, s_.n_ff, s_.n_expert, use, &gate_bytes_);
      up_ = w.stack(be, p + "ffn_up_exps.weight", n_embd, s_.n_ff, s_.n_expert, use, &up_bytes_);
    }
    down_ = w.stack(be, p + "ffn_down_exps.weight", s_.n_ff, n_embd, s_.n_expert, use, &down_bytes_);
    if (s_.selection_bias) bias_ = w.vector(be, p + "exp_probs_b.bias", s_.n_expert);
    if (s_.expert_bias != Bias::none) {
      const bool optional = s_.expert_bias == Bias::if_present;
      router_b_ = w.vector(be, p + "ffn_gate_inp.bias", s_.n_expert, optional);
      const char* names[3] = {"ffn_gate_exps.bias", "ffn_up_exps.bias", "ffn_down_exps.bias"};
      const int64_t width[3] = {s_.n_ff, s_.n_ff, n_embd};
      ops::Tensor* dst[3] = {&gate_b_, &up_b_, &down_b_};
      for (int i = interleaved ? 2 : 0; i < 3; ++i) {
        if (!optional || w.has(p + names[i])) *dst[i] = w.rows_f32(be, p + names[i], width[i], s_.n_expert);
      }
      if (interleaved && (!optional || w.has(p + "ffn_gate_up_exps.bias"))) bind_interleaved_biases(w, be, p);
    }
    if (s_.n_ff_shared > 0) {
      shared_ = std::make_unique<DenseFfn>(s_, s_.n_ff_shared, w, be, p, "_shexp", n_embd);
    }
  }

  // ffn_gate_up_exps.bias [2 * n_ff, n_expert], gate and up values alternating, as two
  // [n_expert, n_ff] tables.
  void bind_interleaved_biases(const WeightLoader& w, ops::Backend& be, const std::string& p) {
    const int64_t F = s_.n_ff;
    const std::vector<float> both = w.host_rows(p + "ffn_gate_up_exps.bias", 2 * F, s_.n_expert);
    std::vector<float> gate(static_cast<size_t>(F * s_.n_expert)), up(gate.size());
    for (size_t i = 0; i < gate.size(); ++i) {
      gate[i] = both[2 * i];
      up[i] = both[2 * i + 1];
    }
    gate_b_ = be.upload_f32(gate.data(), F, s_.n_expert);
    up_b_ = be.upload_f32(up.data(), F, s_.n_expert);
  }

  void forward(const Step& st, const ops::Tensor& xn, const ops::Tensor& out) const override {
    const int64_t n = st.rows.n;
    const int k = s_.gating.k;
    ops::Backend& be = st.scratch.backend();
    Scratch& sc = st.scratch;
    const ops::Tensor& router = sc.get(Buf::router, s_.n_expert, n);
    const ops::Tensor& ids = sc.get(Buf::expert_ids, k, n, gguf::GgmlType::I32);
    const ops::Tensor& weights = sc.get(Buf::expert_weights, k, n);
    const ops::Tensor& eg = sc.get(Buf::expert_gate, s_.n_ff, n * k);
    const ops::Tensor& eu = sc.get(Buf::expert_up, s_.n_ff, n * k);
    const ops::Tensor& ed = sc.get(Buf::expert_down, st.n_embd, n * k);
    be.matmul(router_, xn, n, router);
    if (!router_b_.empty()) be.add_bias(router, router_b_, n, s_.n_expert);
    be.topk_gating(router, bias_, n, s_.n_expert, s_.gating, ids, weights);
    const ops::MatmulJob gate_up[] = {{&gate_, &eg}, {&up_, &eu}};
    be.matmul_id_many(gate_up, 2, xn, false, ids, n, k);
    if (!gate_b_.empty()) be.add_bias_id(eg, gate_b_, ids, n, k, s_.n_ff);
    if (!up_b_.empty()) be.add_bias_id(eu, up_b_, ids, n, k, s_.n_ff);
    activate(be, s_, eg, eu, n * k * s_.n_ff);
    be.matmul_id(down_, eg, true, ids, n, k, ed);
    if (!down_b_.empty()) be.add_bias_id(ed, down_b_, ids, n, k, st.n_embd);
    if (!shared_) {
      be.weighted_sum(ed, weights, n, k, st.n_embd, out);
      return;
    }
    shared_->forward(st, xn, out);
    const ops::Tensor& routed = sc.get(Buf::expert_gate, st.n_embd, n);  // eg is consumed
    be.weighted_sum(ed, weights, n, k, st.n_embd, routed);
    be.add(out, routed, n * st.n_embd);
  }

 private:
  FfnSpec s_;
  ops::Tensor router_, gate_, up_, down_, bias_;
  ops::Tensor router_b_, gate_b_, up_b_, down_b_;  // FfnSpec::expert_bias
  // Expert stacks the loader made in memory (WeightLoader::stack_rows_every: the gate and up rows
  // gathered from an interleaved ffn_gate_up_exps; stack: Ollama's first MXFP4 reordered), which
  // gate_, up_ and down_ may point into; empty otherwise, or when the backend copied them.
  std::vector<uint8_t> gate_bytes_, up_bytes_, down_bytes_;
  std::unique_ptr<DenseFfn> shared_;
};

}  // namespace

std::unique_ptr<FfnBlock> make_ffn(const FfnSpec& spec, const WeightLoader& w, ops::Backend& be,
                                   const std::string& prefix, int64_t n_embd) {
  switch (spec.kind) {
    case FfnKind::dense:
      return std::make_unique<DenseFfn>(spec, spec.n_ff, w, be, prefix, "", n_embd, spec.gate_up);
    case FfnKind::moe:
      return std::make_unique<MoeFfn>(spec, w, be, prefix, n_embd);
    case FfnKind::sequential:
      return make_sequential_ffn(spec, w, be, prefix, n_embd);
  }
  return nullptr;
}

}  // namespace hearth::model
