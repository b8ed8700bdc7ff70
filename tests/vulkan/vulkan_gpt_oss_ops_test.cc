// gpt-oss's own operations on the Vulkan backend against the scalar CPU specification
// ("cpu-ref"): its clamped SwiGLU, each chosen expert's bias row, and attention with sinks (a
// learned logit per head in the softmax denominator), on prompt rows and on the split decode path
// (attention.comp's SPLIT parts merged by attention_merge.comp), including sinks far above every
// score. (MXFP4 weights and the router's softmax over the chosen logits are in
// vulkan_ops_test.cc, beside the other weight types and gating functions.)
//
// Tolerances: SwiGLU as the other element-wise ops (float exp against double: 2e-6 of the
// largest |out|); the bias rows are one float addition, exact. Attention: 2e-5 of each (row, head)'s
// largest |out|, the 1e-5 of vulkan_ops_test.cc on its O(1) outputs, but relative, because a
// head whose sink dominates has outputs of ~e^(max score - sink) (1e-9 here), which an absolute
// bound could not tell from zeros.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "op_compare.h"

namespace hearth {
namespace {

using gguf::GgmlType;
using namespace vulkan::testing;  // op_compare.h

// gate and up of sd 5, so the clamp at 7 cuts about 16 % of each; out written over gate, as
// the FFN block calls it.
TEST(VulkanGptOssOps, ClampedSwiglu) {
  NEED_DEVICE();
  for (int64_t n : {1, 999, 70001}) {
    const auto gv = normal(static_cast<size_t>(n), 81, 5.0f), uv = normal(static_cast<size_t>(n), 82, 5.0f);
    Both g = f32(*gpu, *ref, gv, n, 1), u = f32(*gpu, *ref, uv, n, 1);
    gpu->swiglu_oai(g.g, u.g, n, 1.702f, 7.0f, g.g);
    ref->swiglu_oai(g.r, u.r, n, 1.702f, 7.0f, g.r);
    const auto want = read(*ref, g.r, n);
    expect_near(read(*gpu, g.g, n), want, 2e-6 * (1 + max_abs(want)), "swiglu_oai n " + std::to_string(n));
  }
}

// 4 tokens x 3 slots over 5 experts' bias rows of 70 (no multiple of the shader's 256).
TEST(VulkanGptOssOps, ExpertBiasRows) {
  NEED_DEVICE();
  const int64_t n_tok = 4, n = 70, n_expert = 5;
  const int k = 3;
  const std::vector<int32_t> ids = {4, 0, 2, 1, 1, 3, 0, 4, 2, 3, 2, 1};
  std::vector<float> bits(ids.size());
  std::memcpy(bits.data(), ids.data(), ids.size() * 4);
  const ops::Tensor idg = gpu->alloc(GgmlType::I32, k, n_tok), idr = ref->alloc(GgmlType::I32, k, n_tok);
  gpu->write(idg, n_tok * k, bits.data());
  ref->write(idr, n_tok * k, bits.data());
  Both y = f32(*gpu, *ref, normal(n_tok * k * n, 83), n, n_tok * k), b = f32(*gpu, *ref, normal(n_expert * n, 84), n, n_expert);
  gpu->add_bias_id(y.g, b.g, idg, n_tok, k, n);
  ref->add_bias_id(y.r, b.r, idr, n_tok, k, n);
  expect_near(read(*gpu, y.g, n_tok * k * n), read(*ref, y.r, n_tok * k * n), 0.0, "add_bias_id");
}

// Each (row, head) of got within rel x that head's largest |want| (see the top of the file); a
// head whose outputs round to zero must be zero (finite) on the device too.
void expect_near_per_head(const std::vector<float>& got, const std::vector<float>& want, int64_t n_blocks,
                          int64_t width, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (int64_t b = 0; b < n_blocks; ++b) {
    const auto first = want.begin() + b * width;
    const std::vector<float> block(first, first + width);
    const double tol = rel * max_abs(block) + 1e-37;
    for (int64_t i = 0; i < width; ++i) {
      const size_t at = static_cast<size_t>(b * width + i);
      ASSERT_TRUE(std::isfinite(got[at])) << what << " block " << b << " at " << i;
      ASSERT_NEAR(got[at], want[at], tol) << what << " block " << b << " (row, head) at " << i;
    }
  }
}

// Two sequences in one cache: prompt rows (57 of sequence 1 and 3 of sequence 0: one workgroup
// per row and head), then sequence 0 filled to 1,300 positions and one decode row of each (the
// split path: three parts of 512 keys, of which sequence 1's row sees keys in the first only).
// Sinks per head: below every score, among them, above them all by ~20 (outputs ~1e-9) and by
// ~110 (e^(sink - max) overflows a float: the sink must be factored out, not added), and very low.
// F16 and F32 caches; no window, and a window of 700 that reaches back into the second part.
TEST(VulkanGptOssOps, AttentionWithSinks) {
  NEED_DEVICE();
  const std::vector<float> sinks = {-3.0f, 0.5f, 2.0f, 25.0f, 120.0f, -40.0f};
  for (GgmlType kv : {GgmlType::F16, GgmlType::F32}) {
    for (int64_t window : {0, 700}) {
      ops::AttentionShape s;
      s.n_head = 6;
      s.n_head_kv = 2;
      s.head_dim_k = 40;
      s.head_dim_v = 24;
      s.scale = 1.0f / std::sqrt(40.0f);
      s.window = window;
      s.sinks = sinks.data();
      const int64_t n_ctx = 1400, kw = 2 * 40, vw = 2 * 24, qw = 6 * 40, ow = 6 * 24;
      ops::KvView cg{gpu->alloc(kv, kw, 2 * n_ctx), gpu->alloc(kv, vw, 2 * n_ctx), n_ctx};
      ops::KvView cr{ref->alloc(kv, kw, 2 * n_ctx), ref->alloc(kv, vw, 2 * n_ctx), n_ctx};
      uint32_t seed = 85;
      const std::string what = std::string(gguf::type_name(kv)) + " window " + std::to_string(window);
      auto pass = [&](const std::vector<int32_t>& pos, const std::vector<int32_t>& seq, bool attend) {
        const int64_t n = static_cast<int64_t>(pos.size());
        const ops::SeqRows rows{pos.data(), seq.data(), n};
        Both k = f32(*gpu, *ref, normal(n * kw, seed), kw, n), v = f32(*gpu, *ref, normal(n * vw, seed + 1), vw, n);
        Both q = f32(*gpu, *ref, normal(n * qw, seed + 2, 2.0f), qw, n), o = empty(*gpu, *ref, ow, n);
        seed += 3;
        gpu->store_kv(cg, k.g, v.g, rows);
        ref->store_kv(cr, k.r, v.r, rows);
        if (!attend) return;
        gpu->attention(s, q.g, cg, rows, o.g);
        ref->attention(s, q.r, cr, rows, o.r);
        expect_near_per_head(read(*gpu, o.g, n * ow), read(*ref, o.r, n * ow), n * s.n_head, s.head_dim_v, 2e-5,
                             what + (n > 4 ? " prompt" : " split decode"));
      };
      std::vector<int32_t> pos, seq;
      for (int32_t p = 0; p < 57; ++p) {
        pos.push_back(p), seq.push_back(1);
        if (p < 3) pos.push_back(p), seq.push_back(0);
      }
      pass(pos, seq, true);
      pos.clear(), seq.clear();
      for (int32_t p = 3; p < 1300; ++p) pos.push_back(p), seq.push_back(0);
      pass(pos, seq, false);
      pass({1300, 57}, {0, 1}, true);
    }
  }
}

}  // namespace
}  // namespace hearth
