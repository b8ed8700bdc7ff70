// Every pre-tokenizer against V8's regex engine running the vocabularies' own split regexes
// (goldens/pretokenizer.json, made by goldens/make_pretokenizer_goldens.mjs) over the corpus.
// This is the only check of the GPT-2 and DeepSeek LLM splitters against a reference, since we
// hold no vocabulary for their llama.cpp vectors.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {
namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

TEST(PreTokenizerGolden, AllSplittersMatchTheRegexes) {
  const auto doc = nlohmann::json::parse(
      read_file(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/pretokenizer.json"));
  const auto& all = doc.at("pre_tokenizers");
  ASSERT_EQ(all.size(), 5u);
  for (const auto& [name, cases] : all.items()) {
    const PreTokenizer pre = pre_tokenizer_from_name(name);
    ASSERT_GT(cases.size(), 30u);
    size_t failures = 0;
    for (const auto& c : cases) {
      const std::string text = unhex(c.at("input_hex").get<std::string>());
      std::vector<std::string_view> pieces;
      pre_tokenize(pre, text, pieces);
      std::vector<size_t> lengths;
      for (const std::string_view p : pieces) lengths.push_back(p.size());
      const auto want = c.at("lengths").get<std::vector<size_t>>();
      if (lengths != want) ++failures;
      EXPECT_EQ(lengths, want) << name << ": " << c.at("name").get<std::string>();
    }
    EXPECT_EQ(failures, 0u) << name;
  }
}

}  // namespace
}  // namespace hearth::tokenizer::testing
