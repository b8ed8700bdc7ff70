// Byte-level BPE vocabularies we hold only as tokenizer.json (test data tokenizers/<name>/; the
// test is skipped without it), each
// with its pre-tokenizer, against the ids llama.cpp's llama-tokenize gave on the same vocabulary
// (goldens/<name>_llamacpp.json, made by goldens/make_bpe_llamacpp_goldens.py: the corpus and
// llama.cpp's standard vocab test inputs). The GGUF is built here with the project's writer.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bpe_vocab_fixture.h"
#include "gguf/gguf_file.h"
#include "model/vocab_loader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {
namespace {

class BpeGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BpeGoldenTest, MatchesLlamaCpp) {
  const std::string name = GetParam();
  // HEARTH_TOKENIZERS_DIR may name another folder of tokenizers/<name>/ (to check a vocabulary
  // before it joins the test data).
  const char* dir = std::getenv("HEARTH_TOKENIZERS_DIR");
  const std::string json_path =
      (dir != nullptr ? std::string(dir) : testdata("tokenizers")) + "/" + name + "/tokenizer.json";
  if (!std::filesystem::exists(json_path)) GTEST_SKIP() << "no " << json_path;
  const auto doc = nlohmann::json::parse(
      read_file(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/" + name + "_llamacpp.json"));
  const std::vector<uint8_t> bytes = bpe_vocab_gguf(json_path, doc.at("pre").get<std::string>());
  const Tokenizer tok(model::load_vocab(gguf::File::from_memory(bytes.data(), bytes.size(), name + ".gguf")));
  const auto& cases = doc.at("cases");
  ASSERT_GT(cases.size(), 60u);
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

INSTANTIATE_TEST_SUITE_P(Vocabularies, BpeGoldenTest, ::testing::Values("gpt4o"));

}  // namespace
}  // namespace hearth::tokenizer::testing
