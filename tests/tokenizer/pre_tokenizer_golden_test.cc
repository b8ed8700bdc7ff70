// Every pre-tokenizer against two references over the corpus and 400 seeded random strings of
// characters at the classes' edges:
// - V8's regex engine running the vocabularies' own split regexes (goldens/pretokenizer.json,
//   made by goldens/make_pretokenizer_goldens.mjs);
// - llama.cpp's own splitter (goldens/pretokenizer_llamacpp.json, made by
//   goldens/make_llamacpp_split_goldens.py from libllama's unicode_regex_split), which is the
//   reference where the two differ: for tekken and o200k llama.cpp rewrites the case classes
//   (see match_cased_word in pre_tokenizer.cc).
// These are the only checks of the splitters whose vocabularies we do not hold.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <nlohmann/json.hpp>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace hearth::tokenizer::testing {
namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

// Checks every case of a goldens file whose "lengths" map pre-tokenizer names to piece lengths,
// except the (name, case) pairs in `known_differences`; returns the names it checked.
std::vector<std::string> check_goldens(const std::string& file,
                                       const std::set<std::pair<std::string, std::string>>& known_differences = {}) {
  const auto doc = nlohmann::json::parse(read_file(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/" + file));
  const auto& cases = doc.at("cases");
  EXPECT_GT(cases.size(), 400u);
  std::map<std::string, size_t> failures;
  std::vector<std::string> names;
  for (const auto& c : cases) {
    const std::string text = unhex(c.at("input_hex").get<std::string>());
    names.clear();
    for (const auto& [name, want_json] : c.at("lengths").items()) {
      names.push_back(name);
      if (known_differences.count({name, c.at("name").get<std::string>()})) continue;
      std::vector<std::string_view> pieces;
      pre_tokenize(pre_tokenizer_from_name(name), text, pieces);
      std::vector<size_t> lengths;
      for (const std::string_view p : pieces) lengths.push_back(p.size());
      const auto want = want_json.get<std::vector<size_t>>();
      if (lengths != want) ++failures[name];
      EXPECT_EQ(lengths, want) << name << ": " << c.at("name").get<std::string>();
    }
  }
  for (const auto& [name, n] : failures) ADD_FAILURE() << name << ": " << n << " of " << cases.size() << " cases differ";
  return names;
}

TEST(PreTokenizerGolden, AllSplittersMatchTheRegexes) {
  EXPECT_EQ(check_goldens("pretokenizer.json").size(), 5u);
}

TEST(PreTokenizerGolden, AllSplittersMatchLlamaCpp) {
  // llama.cpp's placeholder for \p{S} leaves out '~' (its ASCII list for symbols is "$+<=>^`|"),
  // so its DeepSeek-V3 split leaves " ~~~" as " " and "~~~"; Hearth keeps the tokenizer.json
  // reading (Unicode's Sm), which the @lenml goldens check.
  const std::vector<std::string> names =
      check_goldens("pretokenizer_llamacpp.json", {{"deepseek-v3", "punctuation_runs"}});
  EXPECT_EQ(names.size(), 9u);
  for (const char* want : {"tekken", "gpt-4o", "deepseek-coder", "starcoder"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

TEST(PreTokenizerNames, AliasesShareTheirGroupsRulesAndFlags) {
  EXPECT_EQ(pre_tokenizer_spec("smollm").pre, PreTokenizer::starcoder);
  EXPECT_EQ(pre_tokenizer_spec("command-r").pre, PreTokenizer::starcoder);
  EXPECT_EQ(pre_tokenizer_spec("olmo").pre, PreTokenizer::gpt2);
  EXPECT_EQ(pre_tokenizer_spec("stablelm2").pre, PreTokenizer::qwen2);
  EXPECT_EQ(pre_tokenizer_spec("llama4").pre, PreTokenizer::gpt4o);
  // Llama 3's regex under DBRX's name (Phi-4) has neither of Llama 3's flags in llama.cpp.
  const PreTokenizerSpec dbrx = pre_tokenizer_spec("dbrx");
  EXPECT_EQ(dbrx.pre, PreTokenizer::llama3);
  EXPECT_FALSE(dbrx.ignore_merges);
  EXPECT_FALSE(dbrx.add_bos);
  const PreTokenizerSpec tekken = pre_tokenizer_spec("tekken");
  EXPECT_TRUE(tekken.ignore_merges);
  EXPECT_TRUE(tekken.add_bos);
  EXPECT_FALSE(pre_tokenizer_spec("gpt-4o").add_bos);
  try {
    pre_tokenizer_spec("no-such-pre");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'no-such-pre'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hearth::tokenizer::testing
