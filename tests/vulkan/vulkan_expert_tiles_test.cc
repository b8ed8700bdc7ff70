// The mixture-of-experts products on the Vulkan backend in both forms (HEARTH_VULKAN_MATMUL:
// "tiled" groups the slots by expert and multiplies an expert's rows with a tile of its tokens;
// "rows" is the per-slot form decode uses) against the scalar CPU backend ("cpu-ref"), for every
// weight type the shaders read; and whole MoE models whose prompts take the tiled form.
//
// Routings are chosen to reach every edge of the tiles: an expert no token chose, one chosen
// once, one chosen by more tokens than two tiles hold (tiles of 16 and of 32 tokens: the host
// picks by the slots per expert), experts of 1 and 130 rows (a partial tile of 64, and more than
// two), two stacks sharing one grouping (gate and up), x read per token and per slot; a routing
// that repeats an expert within a token (an expert with more slots than tokens); more slots than
// one dispatch dimension holds (65,535; F32 experts of one row); 256 experts of which 3 are
// chosen (most have no slots, so no work item) and one expert that takes every slot. Tolerance
// as vulkan_ops_test's matmul: 2e-5 of the largest |y| (the same dequantized weights, float sums
// in another order).
//
// Models (F32 caches, all layers on the device, a 40-token prompt then decode rows, the tiled form
// forced so that lavapipe runs it): every row's logits (every 8th prompt row's for DeepSeek's
// large vocabulary) within 1e-4 (relative L2) of cpu-ref's and the same argmax, the bound of
// vulkan_gpt_oss_test.cc; qwen3moe (F32 and Q8_0 experts), gpt-oss
// (MXFP4 experts), DeepSeek's fixture and tests/model's tiny DeepSeek-V3 (attn_kv_b, or attn_k_b
// and attn_v_b) in both MLA forms (absorbed: heads as experts; expanded: the latent multiplied out
// by all heads' Wvb rows, the absorbed form's stack seen as one matrix).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/model.h"
#include "model/tiny_model.h"
#include "op_compare.h"
#include "test_device.h"
#include "vulkan/vk_testing.h"

namespace hearth {
namespace {

using gguf::GgmlType;
using namespace vulkan::testing;  // op_compare.h

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

// A backend made while HEARTH_VULKAN_MATMUL says `form` (read once, when it is made).
template <typename Make>
auto with_form(const char* form, Make make) {
  setenv("HEARTH_VULKAN_MATMUL", form, 1);
  auto made = make();
  unsetenv("HEARTH_VULKAN_MATMUL");
  return made;
}

struct Routing {
  const char* what;
  int64_t n_tok;
  int k, n_expert;
  std::vector<int32_t> ids;  // [n_tok, k]
  bool large = false;        // F32 experts of one row only (cpu-ref's time)
  int64_t max_rows = 130;    // experts of 1 and 130 rows, or of 1 only
};

std::vector<Routing> routings() {
  std::vector<Routing> r;
  // 80 slots over 5 experts (tiles of 16): expert 0 unchosen, 1 chosen once, 2 by all 40 tokens
  // (three tiles), 3 and 4 by about 20 each.
  Routing a{"40 tokens x 2 of 5", 40, 2, 5, {}};
  for (int t = 0; t < 40; ++t) {
    const int32_t other = t == 7 ? 1 : t % 2 ? 3 : 4;
    a.ids.insert(a.ids.end(), {t % 2 ? 2 : other, t % 2 ? other : 2});
  }
  r.push_back(a);
  // 140 slots over 4 experts (tiles of 32): expert 0 unchosen, 2 chosen by all 70 (three tiles).
  Routing b{"70 tokens x 2 of 4", 70, 2, 4, {}};
  for (int t = 0; t < 70; ++t) b.ids.insert(b.ids.end(), {2, t % 2 ? 1 : 3});
  r.push_back(b);
  // Expert 1 repeated within tokens: 59 slots, where ceil(20 / 32) = 1 tile is dispatched.
  Routing c{"20 tokens x 3 of 3, repeated", 20, 3, 3, std::vector<int32_t>(60, 1)};
  c.ids[2] = 0;
  r.push_back(c);
  // More slots than one dispatch dimension holds (65,535): the per-slot form dispatches them in
  // parts; each token chooses 4 of 5 experts (all but t % 5).
  Routing d{"16400 tokens x 4 of 5", 16400, 4, 5, {}, true};
  for (int t = 0; t < 16400; ++t) {
    for (int e = 0; e < 5; ++e) {
      if (e != t % 5) d.ids.push_back(e);
    }
  }
  r.push_back(d);
  // 256 experts (DeepSeek-V3's count), 3 of them chosen: most experts have no slots, so the work
  // list holds 6 items where a workgroup per possible tile would be 256 x 3. Experts of one row
  // only (cpu-ref's time: 256 experts of every weight type).
  Routing e{"40 tokens x 2 of 256, 3 chosen", 40, 2, 256, {}};
  for (int t = 0; t < 40; ++t) e.ids.insert(e.ids.end(), {t % 3 == 0 ? 7 : 200, 255});
  e.max_rows = 1;
  r.push_back(e);
  // One expert takes every slot (tiles of 32: 70 > 16 x 4): three tiles, the last partial.
  r.push_back(Routing{"70 tokens x 1 of 4, all expert 3", 70, 1, 4, std::vector<int32_t>(70, 3)});
  return r;
}

TEST(VulkanExpertTiles, EveryFormEveryWeightTypeEqualsCpuRef) {
  NEED_VULKAN();
  auto ref = model::make_compute_backend("cpu-ref");
  for (const char* form : {"tiled", "rows"}) {
    auto gpu = with_form(form, [&] { return model::make_compute_backend(vk); });
    for (const Routing& route : routings()) {
      std::vector<float> bits(route.ids.size());
      std::memcpy(bits.data(), route.ids.data(), route.ids.size() * 4);
      const ops::Tensor idg = gpu->alloc(GgmlType::I32, route.k, route.n_tok);
      const ops::Tensor idr = ref->alloc(GgmlType::I32, route.k, route.n_tok);
      gpu->write(idg, route.n_tok * route.k, bits.data());
      ref->write(idr, route.n_tok * route.k, bits.data());
      const int64_t n_slots = route.n_tok * route.k;
      for (const WeightCase c : kWeightCases) {
        if (route.large && c.type != GgmlType::F32) continue;
        for (int64_t rows : {1, 130}) {
          if ((route.large || rows > route.max_rows) && rows > 1) continue;
          // Two stacks (gate and up) of the same shape: one grouping serves both. (cpu-ref reads
          // the bytes in place: they live as long as the tensors are used.)
          Both w[2];
          Weight q[2];
          for (int i = 0; i < 2; ++i) {
            q[i] = quantize(c.type, c.cols, rows * route.n_expert, 80 + static_cast<uint32_t>(rows) + i);
            const int64_t ne[3] = {c.cols, rows, route.n_expert};
            const uint8_t* bytes = q[i].bytes.data();
            w[i].g = gpu->upload_weight(c.type, ne, q[i].row_bytes, bytes, ops::Backend::WeightUse::matmul).tensor;
            w[i].r = ref->upload_weight(c.type, ne, q[i].row_bytes, bytes, ops::Backend::WeightUse::matmul).tensor;
          }
          for (bool per_slot : {false, true}) {
            const int64_t nx = per_slot ? n_slots : route.n_tok;
            Both x = f32(*gpu, *ref, normal(static_cast<size_t>(nx * c.cols), 90), c.cols, nx);
            // NaN in every output first: a slot the shader skips cannot pass for a result.
            const std::vector<float> nan(static_cast<size_t>(n_slots * rows), std::numeric_limits<float>::quiet_NaN());
            Both y[2] = {f32(*gpu, *ref, nan, rows, n_slots), f32(*gpu, *ref, nan, rows, n_slots)};
            const ops::MatmulJob jg[] = {{&w[0].g, &y[0].g}, {&w[1].g, &y[1].g}};
            gpu->matmul_id_many(jg, 2, x.g, per_slot, idg, route.n_tok, route.k);
            for (int i = 0; i < 2; ++i) {
              ref->matmul_id(w[i].r, x.r, per_slot, idr, route.n_tok, route.k, y[i].r);
              const auto want = read(*ref, y[i].r, n_slots * rows);
              expect_near(read(*gpu, y[i].g, n_slots * rows), want, 2e-5 * max_abs(want),
                          std::string(form) + " " + gguf::type_name(c.type) + " rows " + std::to_string(rows) +
                              ", " + route.what + (per_slot ? ", per slot" : ", per token") + ", stack " +
                              std::to_string(i));
            }
            gpu->release(x.g);
            gpu->release(y[0].g);
            gpu->release(y[1].g);
          }
        }
      }
    }
  }
}

// The work list the grouping writes for the indirect dispatch (list_expert_tiles.comp) against a
// host count: each expert's count and slots in order, one (expert, first slot) item per tile of
// TT slots that holds any, experts in order, and the command (row tiles x min(items, cap) x 1).
// The products of F32 experts of 1 and 130 rows against a host dot product, with the default cap
// and with the work items one dispatch launches capped at 3 (the shader then loops over the rest:
// on a GPU, the device's maxComputeWorkGroupCount). Tolerance: 1e-5 of the largest |y| (float
// sums of 75 products in another order).
TEST(VulkanExpertTiles, WorkListMatchesHostCount) {
  NEED_VULKAN();
  const int64_t cols = 75;
  for (uint32_t cap : {0u, 3u}) {
    auto gpu = with_form("tiled", [&] { return model::make_compute_backend(vk); });
    if (cap > 0) vulkan::testing::cap_expert_work_groups(*gpu, cap);
    for (const Routing& route : routings()) {
      // Capped, the large routing's ~2,000 items would be ~700 a workgroup: past lavapipe's
      // 65,535 loop iterations per invocation.
      if (cap > 0 && route.large) continue;
      const int64_t n_slots = route.n_tok * route.k, n_expert = route.n_expert;
      std::vector<float> bits(route.ids.size());
      std::memcpy(bits.data(), route.ids.data(), route.ids.size() * 4);
      const ops::Tensor ids = gpu->alloc(GgmlType::I32, route.k, route.n_tok);
      gpu->write(ids, n_slots, bits.data());
      const int64_t rows = route.large ? 1 : std::min<int64_t>(route.max_rows, 130);
      const std::vector<float> wv = normal(static_cast<size_t>(cols * rows * n_expert), 7);
      const int64_t ne[3] = {cols, rows, n_expert};
      ops::Tensor w = gpu->upload_weight(GgmlType::F32, ne, cols * 4, reinterpret_cast<const uint8_t*>(wv.data()),
                                         ops::Backend::WeightUse::matmul).tensor;
      const std::vector<float> xv = normal(static_cast<size_t>(route.n_tok * cols), 8);
      ops::Tensor x = gpu->upload_f32(xv.data(), cols, route.n_tok);
      ops::Tensor y = gpu->alloc(GgmlType::F32, rows, n_slots);
      const std::vector<float> nan(static_cast<size_t>(n_slots * rows), std::numeric_limits<float>::quiet_NaN());
      gpu->write(y, n_slots * rows, nan.data());
      gpu->matmul_id(w, x, false, ids, route.n_tok, route.k, y);
      const std::string what = std::string(route.what) + (cap > 0 ? ", cap 3" : "");

      std::vector<float> want(static_cast<size_t>(n_slots * rows));
      for (int64_t s = 0; s < n_slots; ++s) {
        for (int64_t r = 0; r < rows; ++r) {
          double acc = 0.0;
          const float* wr = wv.data() + (route.ids[static_cast<size_t>(s)] * rows + r) * cols;
          for (int64_t c = 0; c < cols; ++c) acc += double(wr[c]) * xv[static_cast<size_t>(s / route.k * cols + c)];
          want[static_cast<size_t>(s * rows + r)] = static_cast<float>(acc);
        }
      }
      expect_near(read(*gpu, y, n_slots * rows), want, 1e-5 * max_abs(want), what + ", products");

      const vulkan::testing::ExpertGrouping g = vulkan::testing::last_expert_grouping(*gpu);
      const uint32_t tt = g.tile_tokens;
      ASSERT_TRUE(tt == 16 || tt == 32) << what;
      std::vector<std::vector<uint32_t>> slots(static_cast<size_t>(n_expert));
      for (int64_t s = 0; s < n_slots; ++s) slots[static_cast<size_t>(route.ids[static_cast<size_t>(s)])].push_back(u32(s));
      std::vector<uint32_t> items;  // expert, first slot of the tile
      for (int64_t e = 0; e < n_expert; ++e) {
        const auto& list = slots[static_cast<size_t>(e)];
        for (size_t t0 = 0; t0 < list.size(); t0 += tt) items.insert(items.end(), {u32(e), u32(t0)});
        ASSERT_EQ(g.words[static_cast<size_t>(e)], list.size()) << what << ", count of expert " << e;
        const uint32_t first = g.words[static_cast<size_t>(n_expert + e)];
        const std::vector<uint32_t> got(g.words.begin() + 2 * n_expert + first,
                                        g.words.begin() + 2 * n_expert + first + static_cast<int64_t>(list.size()));
        EXPECT_EQ(got, list) << what << ", slots of expert " << e;
      }
      const size_t tail = static_cast<size_t>(2 * n_expert + n_slots);
      const uint32_t n_items = u32(static_cast<int64_t>(items.size() / 2));
      ASSERT_GE(g.words.size(), tail + 4 + items.size()) << what;
      EXPECT_EQ(g.words[tail + 3], n_items) << what << ", work items";
      EXPECT_EQ(g.words[tail], u32((rows + 63) / 64)) << what << ", command x (row tiles)";
      EXPECT_EQ(g.words[tail + 1], cap > 0 ? std::min(n_items, cap) : n_items) << what << ", command y";
      EXPECT_EQ(g.words[tail + 2], 1u) << what << ", command z";
      EXPECT_EQ(std::vector<uint32_t>(g.words.begin() + static_cast<int64_t>(tail + 4),
                                      g.words.begin() + static_cast<int64_t>(tail + 4 + items.size())),
                items)
          << what << ", work items";
      gpu->release(w);
      gpu->release(x);
      gpu->release(y);
    }
  }
}

int32_t argmax(const float* v, int64_t n) { return static_cast<int32_t>(std::max_element(v, v + n) - v); }

// A prompt of 40 tokens in one pass, then 6 decode rows fed cpu-ref's greedy choices: the logits
// of every `every`-th prompt row, the last, and each decode row within 1e-4 of cpu-ref's, the
// same argmax. (A large vocabulary makes each row's logits slow on lavapipe and in cpu-ref.)
// Returns the Vulkan model's logits of every pass, in order.
std::vector<float> expect_model_matches(const std::string& name, const std::function<gguf::File()>& open,
                                        const std::string& vk, int every = 1) {
  auto load = [&](const std::string& where) { return model::load_model(open(), {where, "", 0}); };
  std::unique_ptr<model::Model> want_m = load("cpu-ref");
  std::unique_ptr<model::Model> got_m = with_form("tiled", [&] { return load(vk); });
  const int64_t V = want_m->n_vocab();
  model::KvCache want_cache = want_m->make_cache(64, 1, GgmlType::F32);
  model::KvCache got_cache = got_m->make_cache(64, 1, GgmlType::F32);
  model::Batch b;
  for (int i = 0; i < 40; ++i) b.add((i * 37 + 5) % static_cast<int32_t>(V), i, 0, i % every == 0 || i == 39);
  double worst = 0.0;
  std::vector<float> all;
  for (int step = 0; step < 7; ++step) {
    const int64_t rows = b.n_logits();
    std::vector<float> want(static_cast<size_t>(rows * V)), got(want.size());
    want_m->forward(b, want_cache, want.data());
    got_m->forward(b, got_cache, got.data());
    all.insert(all.end(), got.begin(), got.end());
    for (int64_t r = 0; r < rows; ++r) {
      const std::vector<double> w(want.begin() + r * V, want.begin() + (r + 1) * V);
      const double e = model::testing::rel_error(got.data() + r * V, w);
      worst = std::max(worst, e);
      EXPECT_LT(e, 1e-4) << name << ", pass " << step << " logits row " << r;
      EXPECT_EQ(argmax(got.data() + r * V, V), argmax(want.data() + r * V, V))
          << name << ", pass " << step << " logits row " << r;
    }
    const int32_t next = argmax(want.data() + (rows - 1) * V, V);
    const int32_t pos = b.pos.back() + 1;
    b.clear();
    b.add(next, pos, 0, true);
  }
  std::printf("[ %s ] worst relative logits error vs cpu-ref %.3g\n", name.c_str(), worst);
  return all;
}

// Both MLA forms (HEARTH_MLA_FORM) of one model against cpu-ref; bit-identical logits would mean
// the expanded form never ran on the device (both passes took the absorbed one).
void expect_both_mla_forms_match(const std::string& name, const std::function<gguf::File()>& open,
                                 const std::string& vk, int every = 1) {
  std::vector<float> runs[2];
  const char* forms[2] = {"absorbed", "expanded"};
  for (int f = 0; f < 2; ++f) {
    setenv("HEARTH_MLA_FORM", forms[f], 1);
    runs[f] = expect_model_matches(name + ", MLA " + forms[f], open, vk, every);
    unsetenv("HEARTH_MLA_FORM");
  }
  EXPECT_NE(runs[0], runs[1]) << name << ": the expanded form did not run";
}

TEST(VulkanExpertTiles, MoeModelPromptsEqualCpuRef) {
  NEED_VULKAN();
  for (GgmlType wt : {GgmlType::F32, GgmlType::Q8_0}) {
    model::testing::TinySpec s;
    s.arch = "qwen3moe";
    s.weight_type = s.embd_type = s.output_type = wt;
    s.head_dim = 32;
    s.rms_eps = 1e-6f;
    s.rope_base = 1e6f;
    s.n_expert = 6;
    s.n_expert_used = 2;
    model::testing::RefWeights weights;
    const std::vector<uint8_t> bytes = model::testing::write_tiny_model(s, &weights);
    expect_model_matches(std::string("qwen3moe ") + gguf::type_name(wt),
                         [&] { return gguf::File::from_memory(bytes.data(), bytes.size(), "moe.gguf"); }, vk);
  }
  {
    model::testing::RefWeights weights;
    const std::vector<uint8_t> bytes =
        model::testing::write_tiny_model(model::testing::tiny_gpt_oss(GgmlType::Q8_0, GgmlType::MXFP4), &weights);
    expect_model_matches("gpt-oss mxfp4 experts",
                         [&] { return gguf::File::from_memory(bytes.data(), bytes.size(), "oss.gguf"); }, vk);
  }
  expect_both_mla_forms_match(
      "deepseek2 fixture", [] { return gguf::File::open(std::string(HEARTH_TESTDATA_DIR) + "/deepseek2-tiny-q8_0.gguf"); },
      vk, 8);
  // tests/model's tiny DeepSeek-V3 in both MLA forms, Wkb/Wvb cut from attn_kv_b or read from
  // attn_k_b / attn_v_b: the expanded form's Wvb rows are the absorbed form's stack.
  for (bool split_kv_b : {false, true}) {
    model::testing::TinySpec s = model::testing::tiny_deepseek2(true, GgmlType::Q8_0);
    s.ds.split_kv_b = split_kv_b;
    model::testing::RefWeights weights;
    const std::vector<uint8_t> bytes = model::testing::write_tiny_model(s, &weights);
    expect_both_mla_forms_match(std::string("deepseek2 ") + (split_kv_b ? "attn_k_b/v_b" : "attn_kv_b"),
                                [&] { return gguf::File::from_memory(bytes.data(), bytes.size(), "ds.gguf"); }, vk);
  }
}

}  // namespace
}  // namespace hearth
