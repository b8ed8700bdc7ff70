// Every pre-tokenizer against V8's regex engine running the vocabularies' own split regexes
// (goldens/pretokenizer.json, made by goldens/make_pretokenizer_goldens.mjs) over the corpus and
// 400 seeded random strings of characters at the classes' edges.
// This is the only check of the GPT-2 and DeepSeek LLM splitters against a reference, since we
// hold no vocabulary for their llama.cpp vectors.

#include <gtest/gtest.h>

#include <map>
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
  const auto& cases = doc.at("cases");
  ASSERT_GT(cases.size(), 400u);
  std::map<std::string, size_t> failures;
  for (const auto& c : cases) {
    const std::string text = unhex(c.at("input_hex").get<std::string>());
    const auto& by_pre = c.at("lengths");
    ASSERT_EQ(by_pre.size(), 5u);
    for (const auto& [name, want_json] : by_pre.items()) {
      std::vector<std::string_view> pieces;
      pre_tokenize(pre_tokenizer_from_name(name), text, pieces);
      std::vector<size_t> lengths;
      for (const std::string_view p : pieces) lengths.push_back(p.size());
      const auto want = want_json.get<std::vector<size_t>>();
      if (lengths != want) ++failures[name];
      EXPECT_EQ(lengths, want) << name << ": " << c.at("name").get<std::string>();
    }
  }
  EXPECT_TRUE(failures.empty());
}

}  // namespace
}  // namespace hearth::tokenizer::testing
