// Every Vulkan shader through the backend seam against the CPU backends' scalar specification
// ("cpu-ref") on random inputs with odd shapes: matmul and embedding lookup for each weight type
// (rows not a multiple of anything, one and several token columns, rows past a chunk's end),
// RMSNorm, LayerNorm, RoPE (normal, NeoX, partial, YaRN), the element-wise ops, KV store and
// attention (F16, F32, Q8_0 and Q4_0 caches, GQA, several sequences, a window, a soft-cap; the
// bytes store_kv writes into Q8_0/Q4_0 caches: vulkan_kv_quant_test.cc). Runs on the first
// usable Vulkan device (lavapipe here and in CI); skipped, saying so, where there is none.
//
// Tolerances: the shaders dequantize exactly as the reference does and sum in float where the
// reference sums in double, so matmul differs by float roundings of n_cols products: 2e-5 of the
// largest |y| (measured ~1e-6). Attention and norms: 1e-5 absolute on O(1) outputs (float sums of
// at most a few hundred terms; a Q8_0/Q4_0 cache element is scale x code, the same float on both
// sides); RoPE 1e-6 (same cos/sin table, one float rotation).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <random>
#include <vector>

#include "model/compute_backend.h"
#include "ops/matmul.h"
#include "quant/type_traits.h"
#include "op_compare.h"
#include "test_device.h"
#include "util/error.h"
#include "vulkan/vk_device.h"

namespace hearth {
namespace {

using gguf::GgmlType;
using namespace vulkan::testing;  // op_compare.h

// y = x W^T on both backends for each token count, within 2e-5 of the largest |y| (float
// summation order differs; the weights are dequantized exactly on both sides).
void expect_matmul_matches(ops::Backend& gpu, ops::Backend& ref, const ops::Tensor& wg, const ops::Tensor& wr,
                           int64_t cols, int64_t rows, std::initializer_list<int64_t> n_toks, uint32_t seed,
                           const std::string& what) {
  for (int64_t n_tok : n_toks) {
    const auto xv = normal(static_cast<size_t>(n_tok * cols), seed);
    Both x = f32(gpu, ref, xv, cols, n_tok), y = empty(gpu, ref, rows, n_tok);
    gpu.matmul(wg, x.g, n_tok, y.g);
    ref.matmul(wr, x.r, n_tok, y.r);
    const auto want = read(ref, y.r, n_tok * rows);
    expect_near(read(gpu, y.g, n_tok * rows), want, 2e-5 * max_abs(want), what + " n_tok " + std::to_string(n_tok));
  }
}

TEST(VulkanOps, MatmulAndGetRowsEveryWeightType) {
  NEED_DEVICE();
  for (const WeightCase c : kWeightCases) {
    for (int64_t rows : {1, 17, 70}) {
      const Weight w = quantize(c.type, c.cols, rows, 3 + static_cast<uint32_t>(rows));
      const int64_t ne[3] = {c.cols, rows, 1};
      const ops::Tensor wg = gpu->upload_weight(c.type, ne, w.row_bytes, w.bytes.data(), ops::Backend::WeightUse::matmul).tensor;
      const ops::Tensor wr = ref->upload_weight(c.type, ne, w.row_bytes, w.bytes.data(), ops::Backend::WeightUse::matmul).tensor;
      const std::string what = std::string(gguf::type_name(c.type)) + " rows " + std::to_string(rows);
      expect_matmul_matches(*gpu, *ref, wg, wr, c.cols, rows, {1, 3, 9}, 7, what);
      const std::vector<int32_t> ids = {static_cast<int32_t>(rows - 1), 0, static_cast<int32_t>(rows / 2)};
      Both out = empty(*gpu, *ref, c.cols, 3);
      gpu->get_rows(wg, ids.data(), 3, out.g);
      ref->get_rows(wr, ids.data(), 3, out.r);
      expect_near(read(*gpu, out.g, 3 * c.cols), read(*ref, out.r, 3 * c.cols), 0.0, what + " get_rows");
    }
  }
}

// Each form of the matrix product (HEARTH_VULKAN_MATMUL: tiled for prompts on GPUs, one row per
// invocation on software devices, one row and 8 tokens a workgroup otherwise) for every weight
// type, with rows and tokens that leave every tile partial (tiles of 64 rows x 16 or 32 tokens)
// and more than one tile each way.
TEST(VulkanOps, EveryMatmulFormEveryWeightType) {
  const int dev = test_device();
  if (dev < 0) GTEST_SKIP() << "no usable Vulkan device (install mesa-vulkan-drivers)";
  auto ref = model::make_compute_backend("cpu-ref");
  for (const char* form : {"tiled", "reduce", "rows"}) {
    setenv("HEARTH_VULKAN_MATMUL", form, 1);
    auto gpu = model::make_compute_backend("vulkan:" + std::to_string(dev));
    unsetenv("HEARTH_VULKAN_MATMUL");
    for (const WeightCase c : kWeightCases) {
      for (int64_t rows : {1, 70, 130}) {
        const Weight w = quantize(c.type, c.cols, rows, 5 + static_cast<uint32_t>(rows));
        const int64_t ne[3] = {c.cols, rows, 1};
        const ops::Tensor wg = gpu->upload_weight(c.type, ne, w.row_bytes, w.bytes.data(), ops::Backend::WeightUse::matmul).tensor;
        const ops::Tensor wr = ref->upload_weight(c.type, ne, w.row_bytes, w.bytes.data(), ops::Backend::WeightUse::matmul).tensor;
        expect_matmul_matches(*gpu, *ref, wg, wr, c.cols, rows, {1, 17, 40}, 9,
                              std::string(form) + " " + gguf::type_name(c.type) + " rows " + std::to_string(rows));
      }
    }
  }
}

TEST(VulkanOps, NormRopeAndElementwise) {
  NEED_DEVICE();
  const int64_t n_rows = 5, n = 200;
  const auto xv = normal(n_rows * n, 11), wv = normal(n, 12), bv = normal(n, 13), uv = normal(n_rows * n, 14);
  Both x = f32(*gpu, *ref, xv, n, n_rows), w = f32(*gpu, *ref, wv, n, 1), out = empty(*gpu, *ref, n, n_rows);
  for (bool weighted : {true, false}) {
    gpu->rmsnorm(x.g, weighted ? w.g : ops::Tensor{}, n_rows, n, 1e-6f, out.g);
    ref->rmsnorm(x.r, weighted ? w.r : ops::Tensor{}, n_rows, n, 1e-6f, out.r);
    expect_near(read(*gpu, out.g, n_rows * n), read(*ref, out.r, n_rows * n), 1e-5, "rmsnorm");
  }
  // RoPE: 3 tokens x 4 heads of 24, rotating 16 dims (partial), each mode; YaRN on the NeoX one.
  const std::vector<int32_t> pos = {0, 7, 1500};
  for (int mode = 0; mode < 2; ++mode) {
    ops::RopeParams p;
    p.mode = mode ? ops::RopeMode::neox : ops::RopeMode::normal;
    p.n_dims = 16;
    p.freq_base = 10000.0f;
    if (mode) {
      p.ext_factor = 1.0f;
      p.freq_scale = 0.25f;
      p.n_ctx_orig = 512;
    }
    const auto rv = normal(3 * 4 * 24, 15 + mode);
    Both r = f32(*gpu, *ref, rv, 96, 3);
    gpu->rope(r.g, 3, 4, 24, pos.data(), p);
    ref->rope(r.r, 3, 4, 24, pos.data(), p);
    expect_near(read(*gpu, r.g, 3 * 96), read(*ref, r.r, 3 * 96), 1e-5, "rope mode " + std::to_string(mode));
  }
  const int64_t m = n_rows * n;
  Both u = f32(*gpu, *ref, uv, n, n_rows), b = f32(*gpu, *ref, bv, n, 1);
  auto check = [&](const char* what) {
    expect_near(read(*gpu, out.g, m), read(*ref, out.r, m), 2e-6 * (1 + max_abs(read(*ref, out.r, m))), what);
  };
  gpu->swiglu(x.g, u.g, m, out.g);
  ref->swiglu(x.r, u.r, m, out.r);
  check("swiglu");
  gpu->geglu(x.g, u.g, m, out.g);
  ref->geglu(x.r, u.r, m, out.r);
  check("geglu");
  gpu->gelu(x.g, m, out.g);
  ref->gelu(x.r, m, out.r);
  check("gelu");
  gpu->add(out.g, x.g, m);
  ref->add(out.r, x.r, m);
  check("add");
  gpu->add_bias(out.g, b.g, n_rows, n);
  ref->add_bias(out.r, b.r, n_rows, n);
  check("add_bias");
  gpu->scale(out.g, 3.5f, m);
  ref->scale(out.r, 3.5f, m);
  check("scale");
  gpu->softcap(out.g, 2.0f, m);
  ref->softcap(out.r, 2.0f, m);
  check("softcap");
}

// LayerNorm (BERT-style encoders): odd widths, with and without weight and bias, in place, rows
// with a large mean (the shader, like the reference, takes the variance of the centred values),
// and more rows than one dispatch dimension holds (65,535 workgroups). Tolerance: x - mean loses
// the float rounding of x and of the float sums (~1e-7 of |x|), divided by the row's standard
// deviation, times |w| (up to ~4): ~1e-6 for centred rows (measured <= 9.5e-7), more where
// |x| / sd is large: a mean of 50 (measured 8.6e-6), or 3-value rows whose values nearly agree
// (measured 9.2e-6 over 65,537 random rows). Bound 1e-5 x (1 + max |out|) x (1 + mean / 16);
// a one-pass variance (mean of squares minus squared mean) is off by ~1e-3 at mean 50.
TEST(VulkanOps, LayerNorm) {
  NEED_DEVICE();
  struct Shape {
    int64_t n_rows, n;
    float mean;
  };
  for (Shape sh : {Shape{1, 1, 0}, Shape{3, 7, 0}, Shape{5, 63, 0}, Shape{70, 200, 0}, Shape{4, 1031, 0},
                   Shape{6, 300, 50}, Shape{65537, 3, 0}}) {
    const int64_t m = sh.n_rows * sh.n;
    auto xv = normal(static_cast<size_t>(m), 51 + static_cast<uint32_t>(sh.n));
    for (float& v : xv) v += sh.mean;
    const auto wv = normal(static_cast<size_t>(sh.n), 52), bv = normal(static_cast<size_t>(sh.n), 53);
    Both x = f32(*gpu, *ref, xv, sh.n, sh.n_rows), w = f32(*gpu, *ref, wv, sh.n, 1), b = f32(*gpu, *ref, bv, sh.n, 1);
    Both out = empty(*gpu, *ref, sh.n, sh.n_rows);
    const float eps = 1e-12f;
    const std::string shape = std::to_string(sh.n_rows) + " x " + std::to_string(sh.n) + " mean " +
                              std::to_string(static_cast<int>(sh.mean));
    auto check = [&](const Both& t, const std::string& what) {
      const auto want = read(*ref, t.r, m);
      expect_near(read(*gpu, t.g, m), want, 1e-5 * (1 + max_abs(want)) * (1 + sh.mean / 16), shape + " " + what);
    };
    for (int v = 0; v < 4; ++v) {  // bit 0: weight, bit 1: bias
      gpu->layernorm(x.g, v & 1 ? w.g : ops::Tensor{}, v & 2 ? b.g : ops::Tensor{}, sh.n_rows, sh.n, eps, out.g);
      ref->layernorm(x.r, v & 1 ? w.r : ops::Tensor{}, v & 2 ? b.r : ops::Tensor{}, sh.n_rows, sh.n, eps, out.r);
      check(out, "variant " + std::to_string(v));
    }
    gpu->layernorm(x.g, w.g, b.g, sh.n_rows, sh.n, 1e-5f, x.g);
    ref->layernorm(x.r, w.r, b.r, sh.n_rows, sh.n, 1e-5f, x.r);
    check(x, "in place");
  }
}

// Three sequences in one cache: a prompt of 70 rows in sequence 2, a decode row in sequence 0,
// then decode rows of all three in one batch; a windowed, soft-capped variant; F16, F32, Q8_0 and
// Q4_0 caches.
TEST(VulkanOps, KvStoreAndAttention) {
  NEED_DEVICE();
  struct Heads {
    int64_t dk, dv;
  };
  for (GgmlType kv : {GgmlType::F16, GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_0}) {
    // Quantized rows are whole blocks, heads need not be (keys are read a block at a time, a
    // part block code by code): keys of 48 (head 0 a whole block and half of the next, head 1
    // the other half and a whole one) with values of 16 (Q4_0: head 1 is the high nibbles);
    // keys of 80 (two whole blocks and a half; a half and two whole) with values of 48.
    const bool quantized = kv == GgmlType::Q8_0 || kv == GgmlType::Q4_0;
    const std::vector<Heads> heads =
        quantized ? std::vector<Heads>{{48, 16}, {80, 48}} : std::vector<Heads>{{40, 24}};
    for (const auto [dk, dv] : heads) {
      for (int variant = 0; variant < 2; ++variant) {
        ops::AttentionShape s;
        s.n_head = 6;
        s.n_head_kv = 2;
        s.head_dim_k = dk;
        s.head_dim_v = dv;
        s.scale = 1.0f / std::sqrt(static_cast<float>(dk));
        if (variant) {
          s.window = 20;
          s.softcap = 1.5f;
        }
        const int64_t n_ctx = 96, kw = 2 * dk, vw = 2 * dv, qw = 6 * dk, ow = 6 * dv;
        ops::KvView cg{gpu->alloc(kv, kw, 3 * n_ctx), gpu->alloc(kv, vw, 3 * n_ctx), n_ctx};
        ops::KvView cr{ref->alloc(kv, kw, 3 * n_ctx), ref->alloc(kv, vw, 3 * n_ctx), n_ctx};
        auto step = [&](std::vector<int32_t> pos, std::vector<int32_t> seq, uint32_t seed) {
          const int64_t n = static_cast<int64_t>(pos.size());
          const ops::SeqRows rows{pos.data(), seq.data(), n};
          Both k = f32(*gpu, *ref, normal(n * kw, seed), kw, n),
               v = f32(*gpu, *ref, normal(n * vw, seed + 1), vw, n);
          Both q = f32(*gpu, *ref, normal(n * qw, seed + 2), qw, n), o = empty(*gpu, *ref, ow, n);
          gpu->store_kv(cg, k.g, v.g, rows);
          ref->store_kv(cr, k.r, v.r, rows);
          gpu->attention(s, q.g, cg, rows, o.g);
          ref->attention(s, q.r, cr, rows, o.r);
          expect_near(read(*gpu, o.g, n * ow), read(*ref, o.r, n * ow), 1e-5,
                      std::string(gguf::type_name(kv)) + " keys " + std::to_string(dk) +
                          " variant " + std::to_string(variant));
        };
        std::vector<int32_t> pos(70), seq(70, 2);
        for (int i = 0; i < 70; ++i) pos[i] = i;
        step(pos, seq, 21);
        step({0}, {0}, 31);
        gpu->copy_rows(cg.k, 2 * n_ctx, 1 * n_ctx, 70);  // sequence 1 takes sequence 2's prefix
        gpu->copy_rows(cg.v, 2 * n_ctx, 1 * n_ctx, 70);
        ref->copy_rows(cr.k, 2 * n_ctx, 1 * n_ctx, 70);
        ref->copy_rows(cr.v, 2 * n_ctx, 1 * n_ctx, 70);
        step({1, 70, 70}, {0, 1, 2}, 41);
      }
    }
  }
}

// A pass of more rows than one dispatch dimension holds (65,535) is refused with a clear error
// before anything is recorded, not cut short.
TEST(VulkanOps, AttentionPassTooLongForOneDispatchIsAnError) {
  NEED_DEVICE();
  ops::AttentionShape s;
  s.n_head = 1;
  s.n_head_kv = 1;
  s.head_dim_k = 4;
  s.head_dim_v = 4;
  const int64_t n = 65536;
  ops::KvView c{gpu->alloc(GgmlType::F16, 4, n), gpu->alloc(GgmlType::F16, 4, n), n};
  const ops::Tensor q = gpu->alloc(GgmlType::F32, 4, n), out = gpu->alloc(GgmlType::F32, 4, n);
  std::vector<int32_t> pos(n), seq(n, 0);
  for (int64_t i = 0; i < n; ++i) pos[i] = static_cast<int32_t>(i);
  const ops::SeqRows rows{pos.data(), seq.data(), n};
  try {
    gpu->attention(s, q, c, rows, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at most 65535 rows per pass"), std::string::npos) << e.what();
  }
}

// Ring caches (KvView::ring, sliding-window layers): store_kv writes position p to slot
// p % ring and attention reads the window from the slots. Against cpu-ref over whole-context
// caches (no ring there): two sequences in passes of up to ring - window + 1 = 45 rows, prompt
// rows and decode rows mixed, 200 positions through a ring of 64; then a decode row past 2,048
// positions (the split path) over a ring of 768 with a window of 700.
TEST(VulkanOps, RingCacheStoreAndAttention) {
  NEED_DEVICE();
  for (GgmlType kv : {GgmlType::F16, GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_0}) {
    const int64_t dv = kv == GgmlType::Q8_0 || kv == GgmlType::Q4_0 ? 48 : 24;  // whole blocks
    for (const auto [window, ring, pass, end] : {std::array<int32_t, 4>{20, 64, 45, 200},
                                                 std::array<int32_t, 4>{700, 768, 69, 2101}}) {
      ops::AttentionShape s;
      s.n_head = 4;
      s.n_head_kv = 2;
      s.head_dim_k = 32;
      s.head_dim_v = dv;
      s.scale = 1.0f / std::sqrt(32.0f);
      s.window = window;
      s.softcap = 1.5f;
      const int64_t n_ctx = end, kw = 2 * 32, vw = 2 * dv, qw = 4 * 32, ow = 4 * dv;
      ops::KvView cg{gpu->alloc(kv, kw, 2 * ring), gpu->alloc(kv, vw, 2 * ring), n_ctx, ring};
      ops::KvView cr{ref->alloc(kv, kw, 2 * n_ctx), ref->alloc(kv, vw, 2 * n_ctx), n_ctx};
      std::vector<int32_t> next = {0, 0};
      uint32_t seed = 90;
      // Sequence 0 to `end` (its last row alone), sequence 1 (the short case only) to end / 2,
      // a row at a time once past a third of that.
      const std::array<int32_t, 2> stop = {end, window > 100 ? 0 : end / 2};
      while (next[0] < stop[0] || next[1] < stop[1]) {
        std::vector<int32_t> pos, seq;
        for (int32_t sq : {1, 0}) {
          int32_t n = std::min(stop[sq] - next[sq], sq == 1 && next[1] > end / 6 ? 1 : pass);
          if (n > 1 && next[sq] + n == stop[sq]) --n;
          for (int32_t i = 0; i < n; ++i) pos.push_back(next[sq] + i), seq.push_back(sq);
          next[sq] += std::max(n, 0);
        }
        const int64_t n = static_cast<int64_t>(pos.size());
        const ops::SeqRows rows{pos.data(), seq.data(), n};
        Both k = f32(*gpu, *ref, normal(n * kw, seed), kw, n), v = f32(*gpu, *ref, normal(n * vw, seed + 1), vw, n);
        Both q = f32(*gpu, *ref, normal(n * qw, seed + 2), qw, n), o = empty(*gpu, *ref, ow, n);
        seed += 3;
        gpu->store_kv(cg, k.g, v.g, rows);
        ref->store_kv(cr, k.r, v.r, rows);
        // The long case only attends at the end (lavapipe: a prompt row's loop over 700 keys
        // is slow); its last pass is the lone split decode row.
        if (window > 100 && next[0] < end) continue;
        gpu->attention(s, q.g, cg, rows, o.g);
        ref->attention(s, q.r, cr, rows, o.r);
        expect_near(read(*gpu, o.g, n * ow), read(*ref, o.r, n * ow), 1e-5,
                    std::string(gguf::type_name(kv)) + " ring " + std::to_string(ring) + " at " +
                        std::to_string(next[0]));
      }
    }
  }
}

// MLA's pieces: a latent cache (no V tensor: values are the first head_dim_v columns of each key
// row; one KV head for all query heads; F16, Q8_0 and Q4_0 caches), prompt rows then a split decode
// row; and copy_cols.
TEST(VulkanOps, LatentAttentionAndCopyCols) {
  NEED_DEVICE();
  // DeepSeek's latent: keys 512 + 64, values the first 512.
  ops::AttentionShape s;
  s.n_head = 5;
  s.n_head_kv = 1;
  s.head_dim_k = 576;
  s.head_dim_v = 512;
  s.scale = 1.0f / std::sqrt(192.0f);
  const int64_t n_ctx = 2200, W = 576;
  for (GgmlType type : {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0}) {
    ops::KvView cg{gpu->alloc(type, W, n_ctx), {}, n_ctx}, cr{ref->alloc(type, W, n_ctx), {}, n_ctx};
    auto step = [&](int32_t first, int32_t n, uint32_t seed, bool attend) {
      std::vector<int32_t> pos(n), seq(n, 0);
      for (int32_t i = 0; i < n; ++i) pos[i] = first + i;
      const ops::SeqRows rows{pos.data(), seq.data(), n};
      Both kv = f32(*gpu, *ref, normal(n * W, seed), W, n), q = f32(*gpu, *ref, normal(n * 5 * W, seed + 1), 5 * W, n);
      Both o = empty(*gpu, *ref, 5 * 512, n);
      gpu->store_kv(cg, kv.g, kv.g, rows);
      ref->store_kv(cr, kv.r, kv.r, rows);
      if (!attend) return;
      gpu->attention(s, q.g, cg, rows, o.g);
      ref->attention(s, q.r, cr, rows, o.r);
      expect_near(read(*gpu, o.g, n * 2560), read(*ref, o.r, n * 2560), 1e-5,
                  std::string(gguf::type_name(type)) + " latent from " + std::to_string(first));
    };
    step(0, 30, 71, true);
    step(30, 2100, 73, false);
    step(2130, 1, 75, true);  // over more than 2 x 1,024 keys: the split path
  }

  const int64_t n = 9, sw = 13, dw = 20;
  Both src = f32(*gpu, *ref, normal(n * sw, 77), sw, n), dst = f32(*gpu, *ref, normal(n * dw, 78), dw, n);
  gpu->copy_cols(src.g, sw, 5, dst.g, dw, 11, 7, n);
  ref->copy_cols(src.r, sw, 5, dst.r, dw, 11, 7, n);
  expect_near(read(*gpu, dst.g, n * dw), read(*ref, dst.r, n * dw), 0.0, "copy_cols");
}

// Decode rows over a context long enough to be split across workgroups (more than 1,024 keys),
// merged in order: two sequences, one with a window reaching back into the second split; F16,
// Q8_0 and Q4_0 caches.
TEST(VulkanOps, SplitDecodeAttentionOverALongContext) {
  NEED_DEVICE();
  for (GgmlType type : {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0}) {
  for (int64_t window : {0, 700}) {
    ops::AttentionShape s;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.head_dim_k = 32;
    s.head_dim_v = 32;
    s.scale = 1.0f / std::sqrt(32.0f);
    s.window = window;
    const int64_t n_ctx = 1600, kw = 64, vw = 64;
    ops::KvView cg{gpu->alloc(type, kw, 2 * n_ctx), gpu->alloc(type, vw, 2 * n_ctx), n_ctx};
    ops::KvView cr{ref->alloc(type, kw, 2 * n_ctx), ref->alloc(type, vw, 2 * n_ctx), n_ctx};
    std::vector<int32_t> pos, seq;
    for (int32_t p = 0; p < 1500; ++p) {  // the prompts: sequence 0 to 1,500 and 1 to 1,200
      pos.push_back(p);
      seq.push_back(0);
      if (p < 1200) {
        pos.push_back(p);
        seq.push_back(1);
      }
    }
    const int64_t n = static_cast<int64_t>(pos.size());
    Both k = f32(*gpu, *ref, normal(n * kw, 51), kw, n), v = f32(*gpu, *ref, normal(n * vw, 52), vw, n);
    const ops::SeqRows all{pos.data(), seq.data(), n};
    gpu->store_kv(cg, k.g, v.g, all);
    ref->store_kv(cr, k.r, v.r, all);
    const std::vector<int32_t> dpos = {1499, 1199}, dseq = {0, 1};
    const ops::SeqRows rows{dpos.data(), dseq.data(), 2};
    Both q = f32(*gpu, *ref, normal(2 * 128, 53, 2.0f), 128, 2), o = empty(*gpu, *ref, 128, 2);
    gpu->attention(s, q.g, cg, rows, o.g);
    ref->attention(s, q.r, cr, rows, o.r);
    expect_near(read(*gpu, o.g, 256), read(*ref, o.r, 256), 1e-5,
                std::string(gguf::type_name(type)) + " split window " + std::to_string(window));
  }
  }
}

// The mixture-of-experts ops: the router (softmax, sigmoid and gpt-oss's softmax of the chosen
// logits, selection bias, k up to 8 of 60 experts, normalized and scaled weights, all 6 groups of
// 10 or the best 3), products with the chosen experts for several weight types (MXFP4 too; every
// slot reading its token's row, or its own), and the weighted sum.
TEST(VulkanOps, MixtureOfExpertsOps) {
  NEED_DEVICE();
  const int64_t n_tok = 5, n_expert = 60;
  const auto lv = normal(n_tok * n_expert, 61), bv = normal(n_expert, 62, 0.1f);
  Both logits = f32(*gpu, *ref, lv, n_expert, n_tok), bias = f32(*gpu, *ref, bv, n_expert, 1);
  for (int k : {1, 3, 8}) {
    for (ops::GatingFunc func : {ops::GatingFunc::softmax, ops::GatingFunc::sigmoid, ops::GatingFunc::softmax_of_chosen}) {
      const bool sig = func == ops::GatingFunc::sigmoid;
      const bool biased = func != ops::GatingFunc::softmax;  // a selection bias may reorder the chosen
      ops::GatingParams gp;
      gp.k = k;
      gp.func = func;
      gp.normalize = k > 1 && func != ops::GatingFunc::softmax_of_chosen;  // gpt-oss: weights sum to 1 already
      gp.scale = sig ? 2.5f : 1.0f;
      const ops::Tensor ig = gpu->alloc(GgmlType::I32, k, n_tok), ir = ref->alloc(GgmlType::I32, k, n_tok);
      Both w = empty(*gpu, *ref, k, n_tok);
      for (int used : {6, 3}) {  // all 6 groups of 10 experts, or the best 3 only
        gp.n_group = 6;
        gp.n_group_used = used;
        gpu->topk_gating(logits.g, biased ? bias.g : ops::Tensor{}, n_tok, n_expert, gp, ig, w.g);
        ref->topk_gating(logits.r, biased ? bias.r : ops::Tensor{}, n_tok, n_expert, gp, ir, w.r);
        // ids come back through read() as floats' bits: compare the bit patterns.
        std::vector<float> idg(n_tok * k), idr(n_tok * k);
        gpu->read(ig, n_tok * k, idg.data());
        ref->read(ir, n_tok * k, idr.data());
        EXPECT_EQ(0, std::memcmp(idg.data(), idr.data(), idg.size() * 4))
            << "k " << k << " gating " << static_cast<int>(func) << " groups used " << used;
        expect_near(read(*gpu, w.g, n_tok * k), read(*ref, w.r, n_tok * k), 1e-6, "gating weights");
      }
    }
  }
  const int k = 3;
  const std::vector<int32_t> ids = {4, 0, 2, 1, 1, 3, 4, 3, 2, 0, 0, 0, 2, 4, 1};
  for (GgmlType t : {GgmlType::F32, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::MXFP4}) {
    const int64_t cols = 256, rows = 24, n_exp = 5;
    const Weight wq = quantize(t, cols, rows * n_exp, 63);
    const int64_t ne[3] = {cols, rows, n_exp};
    const ops::Tensor wg = gpu->upload_weight(t, ne, wq.row_bytes, wq.bytes.data(), ops::Backend::WeightUse::matmul).tensor;
    const ops::Tensor wr = ref->upload_weight(t, ne, wq.row_bytes, wq.bytes.data(), ops::Backend::WeightUse::matmul).tensor;
    // The ids as an I32 tensor on each backend, written through their float view of the bits.
    std::vector<float> bits(ids.size());
    std::memcpy(bits.data(), ids.data(), ids.size() * 4);
    const ops::Tensor idg = gpu->alloc(GgmlType::I32, k, n_tok), idr = ref->alloc(GgmlType::I32, k, n_tok);
    gpu->write(idg, n_tok * k, bits.data());
    ref->write(idr, n_tok * k, bits.data());
    for (bool per_slot : {false, true}) {
      const int64_t nx = per_slot ? n_tok * k : n_tok;
      Both x = f32(*gpu, *ref, normal(nx * cols, 64), cols, nx), y = empty(*gpu, *ref, rows, n_tok * k);
      gpu->matmul_id(wg, x.g, per_slot, idg, n_tok, k, y.g);
      ref->matmul_id(wr, x.r, per_slot, idr, n_tok, k, y.r);
      const auto want = read(*ref, y.r, n_tok * k * rows);
      expect_near(read(*gpu, y.g, n_tok * k * rows), want, 2e-5 * max_abs(want),
                  std::string(gguf::type_name(t)) + (per_slot ? " per slot" : " per token"));
    }
  }
  Both e = f32(*gpu, *ref, normal(n_tok * k * 70, 65), 70, n_tok * k), w = f32(*gpu, *ref, normal(n_tok * k, 66), k, n_tok);
  Both out = empty(*gpu, *ref, 70, n_tok);
  gpu->weighted_sum(e.g, w.g, n_tok, k, 70, out.g);
  ref->weighted_sum(e.r, w.r, n_tok, k, 70, out.r);
  expect_near(read(*gpu, out.g, n_tok * 70), read(*ref, out.r, n_tok * 70), 1e-5, "weighted_sum");
}

// Tensors are ranges of a few large allocations: allocate, free every other one, allocate again
// (reusing and merging freed ranges), with one tensor larger than a chunk; every live tensor
// still holds exactly what was written to it (no two ranges overlap).
TEST(VulkanOps, SubAllocatedTensorsDoNotOverlap) {
  NEED_DEVICE();
  std::mt19937 rng(77);
  std::vector<std::pair<ops::Tensor, std::vector<float>>> live;
  auto add = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<float>(rng() % 100000);
    ops::Tensor t = gpu->alloc(GgmlType::F32, n, 1);
    gpu->write(t, n, v.data());
    live.emplace_back(t, std::move(v));
  };
  for (int i = 0; i < 40; ++i) add(1 + static_cast<int64_t>(rng() % 300000));
  add(int64_t{20} << 20);  // 80 MiB: more than a 64 MiB chunk
  for (size_t i = 0; i < live.size(); i += 2) gpu->release(live[i].first);
  std::vector<std::pair<ops::Tensor, std::vector<float>>> kept;
  for (size_t i = 1; i < live.size(); i += 2) kept.push_back(std::move(live[i]));
  live = std::move(kept);
  for (int i = 0; i < 30; ++i) add(1 + static_cast<int64_t>(rng() % 500000));
  for (auto& [t, v] : live) {
    const int64_t n = static_cast<int64_t>(v.size());
    ASSERT_EQ(read(*gpu, t, n), v);
  }
}

TEST(VulkanOps, DevicesAreListedWithTheirMemory) {
  const auto devices = vulkan::list_devices();
  if (devices.empty()) GTEST_SKIP() << "no Vulkan device";
  for (const auto& d : devices) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_FALSE(d.driver.empty());
    EXPECT_GT(d.vram_bytes, 0u) << d.name;
  }
}

}  // namespace
}  // namespace hearth
