// llama.cpp's tokenizer test vectors (testdata/tokenizer-vectors): every case of each vocabulary
// we hold must give exactly the recorded ids (no BOS/EOS, specials not parsed).

#include <gtest/gtest.h>

#include <ostream>

#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {
namespace {

struct VectorSet {
  const char* name;    // tokenizer-vectors/ggml-vocab-<name>.gguf.{inp,out}
  const char* vocab;   // GGUF holding the vocabulary, relative to testdata
};

void PrintTo(const VectorSet& s, std::ostream* os) { *os << s.name; }

std::vector<std::string> split_cases(const std::string& inp) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> cases;
  size_t pos = 0;
  while (true) {
    const size_t at = inp.find(sep, pos);
    if (at == std::string::npos) break;
    cases.push_back(inp.substr(pos, at - pos));
    pos = at + sep.size();
  }
  return cases;
}

std::vector<std::string> split_lines(const std::string& out) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t nl = out.find('\n', pos);
    const size_t end = nl == std::string::npos ? out.size() : nl;
    lines.push_back(out.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

class VectorsTest : public ::testing::TestWithParam<VectorSet> {};

TEST_P(VectorsTest, AllCasesMatch) {
  const VectorSet& set = GetParam();
  const std::string base = testdata(std::string("tokenizer-vectors/ggml-vocab-") + set.name + ".gguf");
  const std::vector<std::string> cases = split_cases(read_file(base + ".inp"));
  const std::vector<std::string> expected = split_lines(read_file(base + ".out"));
  ASSERT_EQ(cases.size(), expected.size());
  ASSERT_GT(cases.size(), 30u);
  // One vocabulary per set; the sets that share one load it again, which costs ~0.2 s.
  const auto tok = load_tokenizer(testdata(set.vocab));
  size_t failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<TokenId> got = tok->encode(cases[i]);
    const std::vector<TokenId> want = parse_ids(expected[i]);
    if (got != want) ++failures;
    EXPECT_EQ(ids_to_string(got), ids_to_string(want)) << "case " << i << ": \"" << cases[i] << "\"";
  }
  EXPECT_EQ(failures, 0u) << "of " << cases.size() << " cases";
}

INSTANTIATE_TEST_SUITE_P(
    Vocabularies, VectorsTest,
    ::testing::Values(VectorSet{"deepseek-r1-qwen", "qwen2-tiny-q8_0.gguf"},
                      VectorSet{"qwen2", "qwen2-tiny-q8_0.gguf"},
                      VectorSet{"llama-bpe", "llama3-tiny-q8_0.gguf"},
                      VectorSet{"llama-spm", "tokenizer-vectors/ggml-vocab-llama-spm.gguf"}),
    [](const ::testing::TestParamInfo<VectorSet>& info) {
      std::string n = info.param.name;
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

}  // namespace
}  // namespace hearth::tokenizer::testing

namespace hearth::tokenizer::testing {
namespace {

// stories260K.greedy.txt, case A: llama.cpp's prompt ids for "Once upon a time" (with BOS) and
// the text of its greedy output ids, on the Llama-2 SentencePiece vocabulary subset.
TEST(Stories260K, PromptIdsAndOutputTextMatchLlamaCpp) {
  const std::string ref = read_file(testdata("stories260K.greedy.txt"));
  auto field = [&](const std::string& key) {
    const size_t at = ref.find("\n" + key + ": ");
    EXPECT_NE(at, std::string::npos) << key;
    const size_t begin = at + key.size() + 3;
    return ref.substr(begin, ref.find('\n', begin) - begin);
  };
  const auto tok = load_tokenizer(testdata("stories260K.gguf"));
  EXPECT_EQ(ids_to_string(tok->encode("Once upon a time", {.add_special = true})), field("prompt_ids"));
  EXPECT_EQ(tok->decode(parse_ids(field("output_ids"))), field("output_text"));
}

}  // namespace
}  // namespace hearth::tokenizer::testing
