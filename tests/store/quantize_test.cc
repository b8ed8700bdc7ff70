#include "store/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "gguf/gguf_writer.h"
#include "model/model.h"
#include "quant/type_traits.h"
#include "store_test_util.h"
#include "util/error.h"

namespace hearth::store {
namespace {

using gguf::GgmlType;

// An F32 copy of a GGUF (same metadata, names, shapes; dequantized data).
std::vector<uint8_t> f32_copy(const gguf::File& q) {
  gguf::Writer w;
  for (const auto& [k, v] : q.metadata()) w.set(k, v);
  w.set_u32("general.file_type", 0);
  for (const auto& t : q.tensors()) {
    std::vector<float> data(static_cast<size_t>(t.n_elements()));
    quant::traits(t.type).to_float(t.data, data.data(), t.n_elements());
    w.add_tensor(t.name, GgmlType::F32, std::vector<int64_t>(t.ne, t.ne + t.n_dims), data.data(),
                 data.size() * sizeof(float));
  }
  return w.to_bytes();
}

// llama.cpp's own Q4_K_M files are the oracle for the recipe: the plan for an F32 copy must give
// every tensor the type llama-quantize gave it.
void expect_plan_matches(const char* file) {
  gguf::File real = gguf::File::open(testing::testdata(file));
  std::vector<uint8_t> bytes = f32_copy(real);
  gguf::File f32 = gguf::File::from_memory(bytes.data(), bytes.size(), "f32 copy");
  std::vector<GgmlType> plan = plan_quantization(f32, FileType::MOSTLY_Q4_K_M);
  ASSERT_EQ(plan.size(), real.tensors().size());
  for (size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(gguf::type_name(plan[i]), gguf::type_name(real.tensors()[i].type))
        << file << ": " << real.tensors()[i].name;
  }
}

TEST(Quantize, RecipeMatchesLlamaCppQ4KM) {
  expect_plan_matches("qwen2-tiny256-q4_k_m.gguf");  // K-quants, Q6_K on the "more bits" layers
  expect_plan_matches("qwen2-tiny-q4_k_m.gguf");     // rows of 64: Q5_0 / Q8_0 fallbacks
}

// A llama-shaped F32 model with 8 layers and rows of 256.
std::vector<uint8_t> make_f32_llama(int n_layer) {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "quantize-test");
  w.set_u32("llama.block_count", static_cast<uint32_t>(n_layer));
  w.set_u32("llama.embedding_length", 256);
  w.set_u32("llama.feed_forward_length", 256);
  w.set_u32("llama.attention.head_count", 4);
  w.set_u32("llama.attention.head_count_kv", 4);
  w.set_u32("llama.context_length", 128);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32("general.file_type", 0);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 0.05f);
  auto add = [&](const std::string& n, std::vector<int64_t> ne, bool ones = false) {
    int64_t count = 1;
    for (auto x : ne) count *= x;
    std::vector<float> d(static_cast<size_t>(count));
    for (auto& x : d) x = ones ? 1.0f : nd(rng);
    w.add_tensor(n, GgmlType::F32, ne, d.data(), d.size() * sizeof(float));
  };
  add("token_embd.weight", {256, 64});
  for (int l = 0; l < n_layer; ++l) {
    std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {256}, true);
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
      add(b + m + ".weight", {256, 256});
    }
    add(b + "ffn_norm.weight", {256}, true);
  }
  add("output_norm.weight", {256}, true);
  add("output.weight", {256, 64});
  return w.to_bytes();
}

TEST(Quantize, Q4KMAndQ8_0RecipesWriteLoadableFiles) {
  testing::TempDir dir;
  std::vector<uint8_t> bytes = make_f32_llama(8);
  gguf::File src = gguf::File::from_memory(bytes.data(), bytes.size(), "f32");
  std::string out = dir.path() + "/q4km.gguf";
  uint64_t last = 0;
  quantize_gguf(src, FileType::MOSTLY_Q4_K_M, out, [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last);
    EXPECT_LE(done, total);
    last = done;
  });
  gguf::File q = gguf::File::open(out);
  EXPECT_EQ(q.get_u32("general.file_type"), 15u);
  EXPECT_EQ(q.get_string("general.name"), "quantize-test");
  ASSERT_EQ(q.tensors().size(), src.tensors().size());
  // use_more_bits(i, 8) holds for layers 0, 3, 6 and 7.
  for (int l = 0; l < 8; ++l) {
    bool more = l == 0 || l == 3 || l == 6 || l == 7;
    std::string b = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(q.tensor(b + "attn_v.weight").type, more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
    EXPECT_EQ(q.tensor(b + "ffn_down.weight").type, more ? GgmlType::Q6_K : GgmlType::Q4_K) << l;
    EXPECT_EQ(q.tensor(b + "attn_q.weight").type, GgmlType::Q4_K);
    EXPECT_EQ(q.tensor(b + "attn_norm.weight").type, GgmlType::F32);
  }
  EXPECT_EQ(q.tensor("output.weight").type, GgmlType::Q6_K);
  EXPECT_EQ(q.tensor("token_embd.weight").type, GgmlType::Q4_K);
  // llama.cpp's order: non-layer tensors first (by name), then layers in numeric order.
  EXPECT_EQ(q.tensors()[0].name, "output.weight");
  EXPECT_EQ(q.tensors()[3].name, "blk.0.attn_k.weight");
  // The blocks decode back to the weights (Q4_K: relative RMS error of a few percent).
  for (const char* n : {"blk.1.attn_q.weight", "blk.0.attn_v.weight", "output.weight"}) {
    const auto& a = src.tensor(n);
    const auto& b = q.tensor(n);
    std::vector<float> x(static_cast<size_t>(a.n_elements())), y(x.size());
    quant::traits(a.type).to_float(a.data, x.data(), a.n_elements());
    quant::traits(b.type).to_float(b.data, y.data(), b.n_elements());
    double err = 0, ref = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      err += (x[i] - y[i]) * (x[i] - y[i]);
      ref += x[i] * x[i];
    }
    EXPECT_LT(std::sqrt(err / ref), b.type == GgmlType::Q6_K ? 0.03 : 0.1) << n;
  }

  std::string out8 = dir.path() + "/q8.gguf";
  quantize_gguf(src, FileType::MOSTLY_Q8_0, out8, nullptr);
  gguf::File q8 = gguf::File::open(out8);
  for (const auto& t : q8.tensors()) {
    EXPECT_EQ(t.type, t.n_dims >= 2 ? GgmlType::Q8_0 : GgmlType::F32) << t.name;
  }
  // Q4_K_S: attn_v Q5_K on the first four, ffn_down Q5_K on the first n_layer/8.
  std::vector<GgmlType> s = plan_quantization(src, FileType::MOSTLY_Q4_K_S);
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string& n = src.tensors()[i].name;
    if (n == "blk.3.attn_v.weight" || n == "blk.0.ffn_down.weight") {
      EXPECT_EQ(s[i], GgmlType::Q5_K) << n;
    }
    if (n == "blk.4.attn_v.weight" || n == "blk.1.ffn_down.weight") {
      EXPECT_EQ(s[i], GgmlType::Q4_K) << n;
    }
  }
}

// Rows are quantized in parallel while the file streams out; the bytes must not depend on how
// many threads share the rows.
TEST(Quantize, OutputDoesNotDependOnTheThreadCount) {
  testing::TempDir dir;
  std::vector<uint8_t> bytes = make_f32_llama(2);
  gguf::File src = gguf::File::from_memory(bytes.data(), bytes.size(), "f32");
  std::string one;
  for (int threads : {1, 2, 3}) {
    const std::string out = dir.path() + "/q" + std::to_string(threads) + ".gguf";
    uint64_t last = 0, total = 0;
    quantize_gguf(src, FileType::MOSTLY_Q4_K_M, out, [&](uint64_t done, uint64_t t) {
      last = done;
      total = t;
    }, threads);
    EXPECT_EQ(last, total);
    if (threads == 1) {
      one = testing::read_all(out);
      ASSERT_FALSE(one.empty());
    } else {
      EXPECT_TRUE(testing::read_all(out) == one) << threads << " threads";
    }
  }
  // A progress callback that throws cancels the job and leaves no file behind.
  const std::string out = dir.path() + "/cancelled.gguf";
  EXPECT_THROW(quantize_gguf(src, FileType::MOSTLY_Q8_0, out, [](uint64_t done, uint64_t) {
                 if (done > 0) throw Error(ErrorCode::cancelled, "cancelled");
               }),
               Error);
  EXPECT_FALSE(std::filesystem::exists(out));
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(Quantize, RefusesQuantizedSourcesAndUnknownTypes) {
  gguf::File q8 = gguf::File::open(testing::testdata("qwen2-tiny-q8_0.gguf"));
  try {
    plan_quantization(q8, FileType::MOSTLY_Q4_K_M);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "quantization is only supported for F16, BF16 and F32 models");
  }
  EXPECT_EQ(parse_quantization_type("q4_K_M"), FileType::MOSTLY_Q4_K_M);
  EXPECT_EQ(parse_quantization_type("Q4_K"), FileType::MOSTLY_Q4_K_M);
  EXPECT_EQ(parse_quantization_type("q8_0"), FileType::MOSTLY_Q8_0);
  EXPECT_EQ(parse_quantization_type("q4_k_s"), FileType::MOSTLY_Q4_K_S);
  EXPECT_THROW(parse_quantization_type("iq2_xxs"), Error);
  EXPECT_EQ(file_type_name(15), "Q4_K_M");
}

}  // namespace
}  // namespace hearth::store

namespace hearth::store {
namespace {

// Only the tensors the attn_v rule looks at, one row each: plan_quantization reads shapes only.
std::vector<uint8_t> make_attention_only(const std::string& arch, int n_layer, int n_head, int n_head_kv) {
  gguf::Writer w;
  w.set_string("general.architecture", arch);
  w.set_u32(arch + ".block_count", static_cast<uint32_t>(n_layer));
  w.set_u32(arch + ".attention.head_count", static_cast<uint32_t>(n_head));
  w.set_u32(arch + ".attention.head_count_kv", static_cast<uint32_t>(n_head_kv));
  std::vector<float> row(256, 0.01f);
  for (int l = 0; l < n_layer; ++l) {
    for (const char* m : {"attn_q", "attn_v"}) {
      w.add_tensor("blk." + std::to_string(l) + "." + m + ".weight", GgmlType::F32, {256, 1}, row.data(),
                   row.size() * sizeof(float));
    }
  }
  w.add_tensor("output.weight", GgmlType::F32, {256, 1}, row.data(), row.size() * sizeof(float));
  return w.to_bytes();
}

std::vector<GgmlType> plan_for(const std::string& arch, int n_layer, int n_head, int n_head_kv, FileType f) {
  std::vector<uint8_t> bytes = make_attention_only(arch, n_layer, n_head, n_head_kv);
  gguf::File file = gguf::File::from_memory(bytes.data(), bytes.size(), "attention only");
  return plan_quantization(file, f);
}

// llama.cpp's loader calls an 80-layer llama with GQA (and qwen2, deci, olmo at 80 layers) 70B,
// and its recipe then gives attn_v Q5_K wherever the plain rule gave Q3_K or Q4_K. Checked
// against the same shape without GQA (llama.cpp's 65B), which keeps the plain rule.
TEST(Quantize, SeventyBAttentionValuesGetQ5K) {
  for (FileType f : {FileType::MOSTLY_Q4_K_M, FileType::MOSTLY_Q4_K_S, FileType::MOSTLY_Q3_K_M,
                     FileType::MOSTLY_Q3_K_S, FileType::MOSTLY_Q2_K}) {
    const auto plain = plan_for("llama", 80, 8, 8, f);
    int bumped = 0;
    for (const char* arch : {"llama", "qwen2"}) {
      const auto big = plan_for(arch, 80, 8, 1, f);
      ASSERT_EQ(big.size(), plain.size());
      for (size_t i = 0; i < plain.size(); ++i) {
        const bool attn_v = i % 2 == 1 && i + 1 < plain.size();
        const bool low = plain[i] == GgmlType::Q3_K || plain[i] == GgmlType::Q4_K;
        if (attn_v && low) {
          EXPECT_EQ(big[i], GgmlType::Q5_K) << arch << " tensor " << i;
          ++bumped;
        } else if (f != FileType::MOSTLY_Q2_K) {  // Q2_K's attn_v also depends on GQA itself
          EXPECT_EQ(big[i], plain[i]) << arch << " tensor " << i;
        }
      }
    }
    if (f == FileType::MOSTLY_Q4_K_M) {
      EXPECT_GT(bumped, 0);
    }
    // One layer fewer is not 70B: GQA alone changes nothing (but Q2_K's own GQA rule).
    if (f != FileType::MOSTLY_Q2_K) {
      EXPECT_EQ(plan_for("llama", 79, 8, 1, f), plan_for("llama", 79, 8, 8, f));
    }
  }
}

}  // namespace
}  // namespace hearth::store

namespace hearth::store {
namespace {

// Logits of a 12-token prompt (every row), for the relative error below.
std::vector<float> prompt_logits(gguf::File file) {
  auto m = model::load_model(std::move(file));
  model::KvCache cache = m->make_cache(64, 1, GgmlType::F32);
  model::Batch b;
  for (int i = 0; i < 12; ++i) b.add((i * 17 + 3) % 64, i, 0, true);
  std::vector<float> logits(static_cast<size_t>(12 * m->n_vocab()));
  m->forward(b, cache, logits.data());
  return logits;
}

// What create --quantize writes must load in the engine and compute what its source computes,
// up to the format's error. On this Gaussian model (2 layers, 15 quantized matrices, activations
// quantized to 8 bits in every matmul) the logits' relative RMS error came out 0.020 (Q8_0),
// 0.052 (Q6_K), 0.098 (Q5_K_M), 0.176 (Q4_K_M), 0.287 (Q3_K_M); the bounds are 1.5x those, and
// the errors must order as the formats' bits do. A file with a wrong block layout or recipe
// gives errors near 1.
TEST(Quantize, QuantizedFilesRunInTheEngineCloseToTheirSource) {
  testing::TempDir dir;
  std::vector<uint8_t> bytes = make_f32_llama(2);
  gguf::File src = gguf::File::from_memory(bytes.data(), bytes.size(), "f32");
  const std::vector<float> ref = prompt_logits(gguf::File::from_memory(bytes.data(), bytes.size(), "f32"));
  double ref_sq = 0;
  for (float v : ref) ref_sq += static_cast<double>(v) * v;
  const struct {
    FileType type;
    double bound;
  } cases[] = {{FileType::MOSTLY_Q8_0, 0.03}, {FileType::MOSTLY_Q6_K, 0.08},
               {FileType::MOSTLY_Q5_K_M, 0.15}, {FileType::MOSTLY_Q4_K_M, 0.27},
               {FileType::MOSTLY_Q3_K_M, 0.43}};
  double previous = 0;
  for (const auto& c : cases) {
    const std::string out = dir.path() + "/q.gguf";
    quantize_gguf(src, c.type, out, nullptr);
    const std::vector<float> got = prompt_logits(gguf::File::open(out));
    ASSERT_EQ(got.size(), ref.size());
    double err_sq = 0;
    for (size_t i = 0; i < ref.size(); ++i) err_sq += (got[i] - ref[i]) * static_cast<double>(got[i] - ref[i]);
    const double rel = std::sqrt(err_sq / ref_sq);
    EXPECT_LT(rel, c.bound) << file_type_name(static_cast<uint32_t>(c.type));
    EXPECT_GT(rel, previous) << file_type_name(static_cast<uint32_t>(c.type));
    previous = rel;
    RecordProperty(file_type_name(static_cast<uint32_t>(c.type)), std::to_string(rel));
  }
}

}  // namespace
}  // namespace hearth::store
