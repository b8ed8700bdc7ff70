// Encoders (bert, nomic-bert) on tiny random models written by the test: the hidden states of
// Model::forward_hidden, two sequences of different lengths in one batch, must match the
// independent double-precision reference of tiny_encoder.cc, on every CPU placement.
//
// Error budget (relative L2 error of a hidden-state row; rows are LayerNorm outputs, so O(1)):
// - F32 weights: float rounding only (sums of <= 96 terms, a float LayerNorm); measured about
//   1e-6; bound 1e-4.
// - Q8_0 weights: exact weights, but activations quantized to 8 bits per block of 32 before each
//   matmul (see reference_forward_test.cc); measured about 1e-2; bound 5e-2.
// A bidirectional-attention bug (a causal mask left in) or a wrong norm gives O(1) errors.
//
// Against llama.cpp: tests/server/embed_llamacpp_test.cc holds llama.cpp's ids and unit vectors
// for tiny random-gguf files (bert, nomic-bert, bert with a Unigram vocabulary) and compares
// /api/embed with them. Earlier, by hand (scripts/llamacpp-embed-compare.py): random-gguf files
// (bert and nomic-bert, n_embd 128, 3 layers, F32, --std 0.08) through llama-embedding
// --embd-normalize 2 and Hearth's /api/embed, 48 texts of tests/tokenizer/goldens/wpm_corpus.json:
// max abs difference of the unit vectors 8.8e-5 (bert),
// 8.9e-5 (nomic-bert); the nomic-embed-text shape in F16 (768 wide, 12 layers), one 512-token
// input: 1.5e-5. llama.cpp's GELU reads an F16 table and its output is printed with 7 decimals.

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/model.h"
#include "tiny_encoder.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hearth::model {
namespace {

using gguf::GgmlType;
using testing::RefWeights;
using testing::TinyEncoderSpec;

struct Case {
  std::string name;
  TinyEncoderSpec spec;
  Placement placement;
  double bound;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

TinyEncoderSpec spec_of(const std::string& arch, GgmlType wt) {
  TinyEncoderSpec s;
  s.arch = arch;
  s.weight_type = wt;
  s.embd_type = wt;
  if (arch == "nomic-bert") s.norm_eps = 1e-12f;
  return s;
}

std::vector<Case> cases() {
  const Placement cpu{"cpu", "", 0}, ref{"cpu-ref", "", 0}, split{"cpu", "cpu-ref", 1};
  std::vector<Case> c;
  for (const char* arch : {"bert", "nomic-bert"}) {
    const std::string a = arch == std::string("bert") ? "bert" : "nomic";
    c.push_back({a + "_f32_cpu", spec_of(arch, GgmlType::F32), cpu, 1e-4});
    c.push_back({a + "_f32_cpu_ref", spec_of(arch, GgmlType::F32), ref, 1e-4});
    c.push_back({a + "_f32_split", spec_of(arch, GgmlType::F32), split, 1e-4});
    c.push_back({a + "_q8_0_cpu", spec_of(arch, GgmlType::Q8_0), cpu, 5e-2});
    c.push_back({a + "_f16_cpu", spec_of(arch, GgmlType::F16), cpu, 1e-3});
  }
  return c;
}

class EncoderForward : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { global_thread_pool(2); }
};

int32_t token_at(int i, int64_t n_vocab, int salt) {
  return static_cast<int32_t>((i * 37 + salt * 11 + 5) % n_vocab);
}

// Sequence 0 of 7 tokens and sequence 1 of 4, rows interleaved in one batch.
TEST_P(EncoderForward, TwoSequencesMatchReference) {
  const Case& c = GetParam();
  RefWeights weights;
  const std::vector<uint8_t> bytes = testing::write_tiny_encoder(c.spec, &weights);
  std::unique_ptr<Model> m =
      load_model(gguf::File::from_memory(bytes.data(), bytes.size(), c.name + ".gguf"), c.placement);
  EXPECT_FALSE(m->causal());
  const int64_t E = c.spec.n_embd, V = m->n_vocab();
  const int len[2] = {7, 4};
  std::vector<int32_t> toks[2];
  Batch b;
  for (int i = 0; i < len[0]; ++i) {
    for (int s = 0; s < 2; ++s) {
      if (i >= len[s]) continue;
      toks[s].push_back(token_at(i, V, s));
      b.add(toks[s].back(), i, s, true);
    }
  }
  KvCache cache = m->make_cache(8, 2, GgmlType::F32);
  std::vector<float> hidden(static_cast<size_t>(b.size() * E));
  m->forward_hidden(b, cache, hidden.data());
  const std::vector<std::vector<double>> want[2] = {testing::ref_encode(c.spec, weights, toks[0]),
                                                    testing::ref_encode(c.spec, weights, toks[1])};
  double worst = 0.0;
  for (int64_t r = 0; r < b.size(); ++r) {
    const auto& row = want[b.seq[static_cast<size_t>(r)]][static_cast<size_t>(b.pos[static_cast<size_t>(r)])];
    const double e = testing::rel_error(hidden.data() + r * E, row);
    worst = std::max(worst, e);
    EXPECT_LT(e, c.bound) << "row " << r;
  }
  std::printf("[ %s ] worst relative hidden-state error %.3g (bound %.3g)\n", c.name.c_str(), worst,
              c.bound);
}

INSTANTIATE_TEST_SUITE_P(All, EncoderForward, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// An encoder keeps no KV cache: make_cache allocates nothing and the memory estimate counts
// nothing (each pass keeps its keys and values in its scratch). Sequence ids need not be dense
// or in order, and nothing carries over from one pass to the next: each pass matches the
// reference on its own.
TEST(Encoder, KeepsNoCacheBetweenPasses) {
  TinyEncoderSpec s = spec_of("nomic-bert", GgmlType::F32);
  RefWeights weights;
  const std::vector<uint8_t> bytes = testing::write_tiny_encoder(s, &weights);
  std::unique_ptr<Model> m = load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "e.gguf"));
  const uint64_t held = m->held_bytes();
  KvCache cache = m->make_cache(512, 4, GgmlType::F16);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(m->held_bytes(), held);
  EXPECT_EQ(kv_cache_bytes_per_layer(m->file(), 512, 4, GgmlType::F16), 0u);
  for (const uint64_t layer : kv_cache_bytes_by_layer(m->file(), 512, 4, GgmlType::F16, 512)) EXPECT_EQ(layer, 0u);
  const int64_t E = s.n_embd, V = m->n_vocab();
  // Pass 1: sequence 3 (6 tokens), then sequence 1 (3 tokens); pass 2: sequence 2 alone (5).
  const std::vector<std::vector<std::pair<int, int>>> passes = {{{3, 6}, {1, 3}}, {{2, 5}}};
  for (size_t p = 0; p < passes.size(); ++p) {
    Batch b;
    std::vector<std::vector<int32_t>> toks;
    for (const auto& [seq, len] : passes[p]) {
      toks.emplace_back();
      for (int i = 0; i < len; ++i) {
        toks.back().push_back(token_at(i, V, seq + static_cast<int>(p)));
        b.add(toks.back().back(), i, seq, true);
      }
    }
    std::vector<float> hidden(static_cast<size_t>(b.size() * E));
    m->forward_hidden(b, cache, hidden.data());
    int64_t r = 0;
    for (const auto& t : toks) {
      const auto want = testing::ref_encode(s, weights, t);
      for (const auto& row : want) EXPECT_LT(testing::rel_error(hidden.data() + r++ * E, row), 1e-4) << "pass " << p;
    }
  }
}

// Only the wanted rows come back, in row order (what CLS pooling asks for).
TEST(Encoder, WantedRowsOnly) {
  TinyEncoderSpec s = spec_of("bert", GgmlType::F32);
  RefWeights weights;
  const std::vector<uint8_t> bytes = testing::write_tiny_encoder(s, &weights);
  std::unique_ptr<Model> m = load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "e.gguf"));
  const std::vector<int32_t> toks = {5, 9, 13, 17, 21};
  Batch b;
  for (int i = 0; i < 5; ++i) b.add(toks[static_cast<size_t>(i)], i, 0, i == 0 || i == 3);
  KvCache cache = m->make_cache(5, 1, GgmlType::F32);
  std::vector<float> hidden(static_cast<size_t>(2 * s.n_embd));
  m->forward_hidden(b, cache, hidden.data());
  const auto want = testing::ref_encode(s, weights, toks);
  EXPECT_LT(testing::rel_error(hidden.data(), want[0]), 1e-4);
  EXPECT_LT(testing::rel_error(hidden.data() + s.n_embd, want[3]), 1e-4);
}

TEST(Encoder, HasNoLogits) {
  RefWeights weights;
  const std::vector<uint8_t> bytes = testing::write_tiny_encoder(spec_of("nomic-bert", GgmlType::F32), &weights);
  std::unique_ptr<Model> m = load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "e.gguf"));
  Batch b;
  b.add(4, 0, 0, true);
  KvCache cache = m->make_cache(4, 1, GgmlType::F32);
  std::vector<float> out(static_cast<size_t>(m->n_vocab()));
  try {
    m->forward(b, cache, out.data());
    FAIL() << "logits from an encoder";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("embedding model"), std::string::npos) << e.what();
  }
}

// Keys refused by name: a causal encoder, nomic-bert's MoE variant, a missing LayerNorm epsilon.
TEST(Encoder, RefusedKeysAreNamed) {
  struct Bad {
    std::string arch, key;
    std::function<void(gguf::Writer&)> edit;
  };
  const std::vector<Bad> bad = {
      {"bert", "bert.attention.causal", [](gguf::Writer& w) { w.set_bool("bert.attention.causal", true); }},
      {"nomic-bert", "nomic-bert.moe_every_n_layers",
       [](gguf::Writer& w) { w.set_u32("nomic-bert.moe_every_n_layers", 2); }},
      {"bert", "bert.attention.layer_norm_epsilon",
       [](gguf::Writer& w) { w.set_f32("bert.attention.layer_norm_epsilon", 0.0f); }},
  };
  for (const Bad& x : bad) {
    TinyEncoderSpec s = spec_of(x.arch, GgmlType::F32);
    s.edit = x.edit;
    RefWeights weights;
    const std::vector<uint8_t> bytes = testing::write_tiny_encoder(s, &weights);
    try {
      load_model(gguf::File::from_memory(bytes.data(), bytes.size(), "e.gguf"));
      FAIL() << x.key << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(x.key), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace hearth::model
