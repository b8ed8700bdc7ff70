// Goldens from an independent implementation (@lenml/tokenizers, see goldens/make_goldens.mjs):
// Qwen3's vocabulary (qwen3-tiny-q8_0.gguf, pre qwen2) and DeepSeek-V3's
// (ggml-vocab-deepseek-v3.gguf) over a varied corpus, plus decoding and streaming round trips.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <atomic>
#include <random>
#include <thread>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {
namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

struct GoldenCase {
  std::string name;
  std::string input;
  std::string decoded;  // what the reference tokenized: input with ill-formed UTF-8 replaced
  bool parse_special = false;
  std::vector<TokenId> ids;
};

std::vector<GoldenCase> load_goldens(const std::string& file) {
  const auto doc = nlohmann::json::parse(
      read_file(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/" + file));
  std::vector<GoldenCase> cases;
  for (const auto& c : doc.at("cases")) {
    GoldenCase g;
    g.name = c.at("name").get<std::string>();
    g.input = unhex(c.at("input_hex").get<std::string>());
    g.decoded = c.contains("decoded_hex") ? unhex(c.at("decoded_hex").get<std::string>()) : g.input;
    g.parse_special = c.value("parse_special", false);
    g.ids = c.at("ids").get<std::vector<TokenId>>();
    cases.push_back(std::move(g));
  }
  return cases;
}

class GoldenTest : public ::testing::Test {
 protected:
  // Each big vocabulary is loaded once per process, and only by the tests that use it (CTest
  // runs every test in its own process).
  static const Tokenizer& qwen3() {
    static const auto tok = load_tokenizer(testdata("qwen3-tiny-q8_0.gguf"));
    return *tok;
  }
  static const Tokenizer& deepseek_v3() {
    static const auto tok = load_tokenizer(testdata("tokenizer-vectors/ggml-vocab-deepseek-v3.gguf"));
    return *tok;
  }

  static void check_goldens(const Tokenizer& tok, const std::string& file) {
    const std::vector<GoldenCase> cases = load_goldens(file);
    ASSERT_GT(cases.size(), 30u);
    size_t failures = 0;
    for (const GoldenCase& c : cases) {
      // The reference saw text decoded by TextDecoder; ours must replace the same way.
      EXPECT_EQ(utf8_sanitize(c.input), c.decoded) << c.name;
      EncodeOptions options;
      options.parse_special = c.parse_special;
      const std::vector<TokenId> got = tok.encode(c.input, options);
      if (got != c.ids) ++failures;
      EXPECT_EQ(ids_to_string(got), ids_to_string(c.ids)) << file << ": " << c.name;
    }
    EXPECT_EQ(failures, 0u) << "of " << cases.size() << " cases in " << file;
  }

  // decode() and the stream decoder both give back the (sanitized) text, and every streamed
  // chunk is well-formed UTF-8 on its own.
  static void check_round_trips(const Tokenizer& tok, const std::string& file) {
    for (const GoldenCase& c : load_goldens(file)) {
      EXPECT_EQ(tok.decode(c.ids, true), c.decoded) << c.name;
      StreamDecoder stream(tok, true);
      std::string text;
      for (const TokenId id : c.ids) {
        const std::string chunk = stream.push(id);
        EXPECT_TRUE(utf8_is_valid(chunk)) << c.name;
        text += chunk;
      }
      text += stream.finish();
      EXPECT_EQ(text, c.decoded) << c.name;
    }
  }

};

TEST_F(GoldenTest, Qwen3MatchesReference) { check_goldens(qwen3(), "qwen3.json"); }
TEST_F(GoldenTest, DeepSeekV3MatchesReference) { check_goldens(deepseek_v3(), "deepseek_v3.json"); }
TEST_F(GoldenTest, Qwen3RoundTrips) { check_round_trips(qwen3(), "qwen3.json"); }
TEST_F(GoldenTest, DeepSeekV3RoundTrips) { check_round_trips(deepseek_v3(), "deepseek_v3.json"); }

// Random bytes (seeded), biased towards the characters the splitters treat specially: byte-level
// BPE loses nothing but ill-formed UTF-8, so decoding gives back the sanitized input.
TEST_F(GoldenTest, RandomBytesRoundTrip) {
  static const char* const kAtoms[] = {" ", "  ", "\n", "\r\n", "\t", "a", "Z", "'s", "'LL", "7", "42",
                                       ".", "!?", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xE2\x80\x8D",
                                       "\xCC\x81", "\xEF\xBC\x81", "\xE3\x80\x80", "\xC2\xA0", "<", "|"};
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      if (rng() % 4 == 0) {
        text += static_cast<char>(rng() % 256);
      } else {
        text += kAtoms[rng() % std::size(kAtoms)];
      }
    }
    const std::string want = utf8_sanitize(text);
    for (const Tokenizer* tok : {&qwen3(), &deepseek_v3()}) {
      const std::vector<TokenId> ids = tok->encode(text);
      ASSERT_EQ(tok->decode(ids), want) << "iteration " << iter;
      StreamDecoder stream(*tok);
      std::string streamed;
      for (const TokenId id : ids) streamed += stream.push(id);
      streamed += stream.finish();
      ASSERT_EQ(streamed, want) << "iteration " << iter;
    }
  }
}

// encode() is const and keeps no shared scratch: threads sharing one Tokenizer agree with the
// goldens.
TEST_F(GoldenTest, ConcurrentEncodesAgree) {
  const std::vector<GoldenCase> cases = load_goldens("qwen3.json");
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < cases.size(); ++i) {
        const GoldenCase& c = cases[(i + static_cast<size_t>(t) * 7) % cases.size()];
        EncodeOptions options;
        options.parse_special = c.parse_special;
        if (qwen3().encode(c.input, options) != c.ids) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(GoldenTest, VocabularyFlags) {
  // Qwen3: no BOS added; <|im_end|> ends generation; <think> is user-defined (always parsed).
  EXPECT_FALSE(qwen3().vocab().add_bos);
  EXPECT_TRUE(qwen3().is_end_of_generation(151645));
  EXPECT_TRUE(qwen3().is_end_of_generation(151643));
  EXPECT_EQ(qwen3().encode("<think>"), (std::vector<TokenId>{151667}));
  EXPECT_EQ(qwen3().encode("<|im_start|>", {.parse_special = true}), (std::vector<TokenId>{151644}));
  EXPECT_NE(qwen3().encode("<|im_start|>"), (std::vector<TokenId>{151644}));
  // DeepSeek-V3 adds BOS (id 0) when asked.
  const std::vector<TokenId> ids = deepseek_v3().encode("Hi", {.add_special = true});
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(deepseek_v3().decode(ids), "Hi");
}

}  // namespace
}  // namespace hearth::tokenizer::testing
