// The feed-forward blocks.
//   DenseFfn:  out = Wdown (act(Wgate xn) * (Wup xn))           act = silu (SwiGLU) or gelu (GeGLU)
//              (Wgate, Wup may be the two halves of one fused ffn_up, gate first: Phi-3)
//   MoeFfn:    r = Wrouter xn [n, n_expert]; the top-k experts of each row with their weights
//              (ops::topk_gating); each chosen expert e runs DenseFfn's math with its own slices
//              of the stacked ffn_{gate,up,down}_exps; out = sum_j w_j expert_j(xn)
//              (+ the shared experts' dense FFN, ffn_*_shexp, on every row).

#include "model/blocks.h"
#include "util/error.h"

namespace hearth::model {

namespace {

void activate(ops::Backend& be, GateActivation act, const ops::Tensor& gate, const ops::Tensor& up,
              int64_t n) {
  if (act == GateActivation::silu) {
    be.swiglu(gate, up, n, gate);
  } else {
    be.geglu(gate, up, n, gate);
  }
}

class DenseFfn final : public FfnBlock {
 public:
  // suffix: "" for a dense layer, "_shexp" for a MoE layer's shared experts.
  DenseFfn(GateActivation act, int64_t n_ff, const WeightLoader& w, ops::Backend& be,
           const std::string& p, const std::string& suffix, int64_t n_embd,
           GateUpWeights gate_up = GateUpWeights::separate)
      : act_(act), n_ff_(n_ff) {
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
    activate(be, act_, gate, up, n * n_ff_);
    be.matmul(down_, gate, n, out);
  }

 private:
  GateActivation act_;
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
    gate_ = w.stack(be, p + "ffn_gate_exps.weight", n_embd, s_.n_ff, s_.n_expert, use);
    up_ = w.stack(be, p + "ffn_up_exps.weight", n_embd, s_.n_ff, s_.n_expert, use);
    down_ = w.stack(be, p + "ffn_down_exps.weight", s_.n_ff, n_embd, s_.n_expert, use);
    if (s_.selection_bias) bias_ = w.vector(be, p + "exp_probs_b.bias", s_.n_expert);
    if (s_.n_ff_shared > 0) {
      shared_ = std::make_unique<DenseFfn>(s_.act, s_.n_ff_shared, w, be, p, "_shexp", n_embd);
    }
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
    be.topk_gating(router, bias_, n, s_.n_expert, s_.gating, ids, weights);
    be.matmul_id(gate_, xn, false, ids, n, k, eg);
    be.matmul_id(up_, xn, false, ids, n, k, eu);
    activate(be, s_.act, eg, eu, n * k * s_.n_ff);
    be.matmul_id(down_, eg, true, ids, n, k, ed);
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
  std::unique_ptr<DenseFfn> shared_;
};

}  // namespace

std::unique_ptr<FfnBlock> make_ffn(const FfnSpec& spec, const WeightLoader& w, ops::Backend& be,
                                   const std::string& prefix, int64_t n_embd) {
  switch (spec.kind) {
    case FfnKind::dense:
      return std::make_unique<DenseFfn>(spec.act, spec.n_ff, w, be, prefix, "", n_embd, spec.gate_up);
    case FfnKind::moe:
      return std::make_unique<MoeFfn>(spec, w, be, prefix, n_embd);
    case FfnKind::sequential:
      return make_sequential_ffn(spec, w, be, prefix, n_embd);
  }
  return nullptr;
}

}  // namespace hearth::model
