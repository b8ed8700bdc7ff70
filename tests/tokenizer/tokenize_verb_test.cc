// `hearth tokenize` end to end: the built binary, text on stdin, ids on stdout.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "tokenizer_test_util.h"

namespace hearth::tokenizer::testing {
namespace {

struct RunResult {
  int status;
  std::string out;
};

// Runs `hearth tokenize ARGS < input` through the shell; stderr goes to stdout.
RunResult run_tokenize(const std::string& args, const std::string& input) {
  const auto dir = std::filesystem::temp_directory_path() / ("hearth_tok_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string in_path = (dir / "input.txt").string();
  {
    std::ofstream f(in_path, std::ios::binary);
    f << input;
  }
  const std::string cmd = std::string("'") + HEARTH_EXE + "' tokenize " + args + " < '" + in_path + "' 2>&1";
  RunResult r{-1, {}};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.status = ::pclose(p);
  std::filesystem::remove_all(dir);
  return r;
}

TEST(TokenizeVerb, PrintsIdsOfStdinOnVocabOnlyGguf) {
  const std::string path = testdata("tokenizer-vectors/ggml-vocab-llama-spm.gguf");
  const std::string text = "Hello world\n\xF0\x9F\x98\x80 ok";
  const RunResult r = run_tokenize("'" + path + "'", text);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto tok = load_tokenizer(path);
  EXPECT_EQ(r.out, ids_to_string(tok->encode(text)) + "\n");
  EXPECT_NE(r.out.rfind("1 ", 0), 0u) << "no BOS expected: " << r.out;
}

TEST(TokenizeVerb, SpecialFlagParsesControlTokens) {
  const std::string path = testdata("tokenizer-vectors/ggml-vocab-deepseek-v3.gguf");
  const std::string text = "<\xEF\xBD\x9CUser\xEF\xBD\x9C>Hi";  // <｜User｜>Hi
  const RunResult plain = run_tokenize("'" + path + "'", text);
  const RunResult special = run_tokenize("--special '" + path + "'", text);
  ASSERT_EQ(plain.status, 0) << plain.out;
  ASSERT_EQ(special.status, 0) << special.out;
  EXPECT_EQ(special.out.rfind("128803 ", 0), 0u) << special.out;
  EXPECT_NE(plain.out.rfind("128803", 0), 0u) << plain.out;
  EXPECT_EQ(special.out, "128803 " + ids_to_string(load_tokenizer(path)->encode("Hi")) + "\n");
}

TEST(TokenizeVerb, MissingFileIsAnError) {
  const RunResult r = run_tokenize("/nonexistent/vocab.gguf", "x");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("Error"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hearth::tokenizer::testing
