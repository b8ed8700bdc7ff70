#include "store/modelfile.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/error.h"

namespace hearth::store {
namespace {

std::string error_of(const std::string& text) {
  try {
    Modelfile::parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Modelfile, EveryCommand) {
  Modelfile f = Modelfile::parse(
      "# a comment\n"
      "FROM llama3.2\n"
      "parameter temperature 0.7\n"
      "PARAMETER stop <|eot|>\n"
      "PARAMETER stop \"</s>\"\n"
      "TEMPLATE \"\"\"{{ .System }}\n{{ .Prompt }}\"\"\"\n"
      "SYSTEM You are \"helpful\".\n"
      "MESSAGE user Hello there\n"
      "MESSAGE assistant \"\"\"Hi!\nHow can I help?\"\"\"\n"
      "LICENSE \"\"\"MIT\"\"\"\n"
      "ADAPTER ./lora.gguf\n"
      "REQUIRES 0.14.0\n");
  ASSERT_EQ(f.commands.size(), 11u);
  EXPECT_EQ(f.commands[0].name, "model");
  EXPECT_EQ(f.commands[0].args, "llama3.2");
  EXPECT_EQ(f.commands[1].name, "temperature");
  EXPECT_EQ(f.commands[1].args, "0.7");
  EXPECT_EQ(f.commands[2].args, "<|eot|>");
  EXPECT_EQ(f.commands[3].args, "</s>");
  EXPECT_EQ(f.commands[4].name, "template");
  EXPECT_EQ(f.commands[4].args, "{{ .System }}\n{{ .Prompt }}");
  EXPECT_EQ(f.commands[5].name, "system");
  EXPECT_EQ(f.commands[5].args, "You are \"helpful\".");
  EXPECT_EQ(f.commands[6].name, "message");
  EXPECT_EQ(f.commands[6].args, "user: Hello there");
  EXPECT_EQ(f.commands[7].args, "assistant: Hi!\nHow can I help?");
  EXPECT_EQ(f.commands[8].name, "license");
  EXPECT_EQ(f.commands[9].name, "adapter");
  EXPECT_EQ(f.commands[10].name, "requires");
}

TEST(Modelfile, QuotingRules) {
  // Single-quoted values may span lines until the closing quote; spaces never end a value.
  Modelfile f = Modelfile::parse("FROM m\nSYSTEM \"line one\nline two\"\nTEMPLATE   spaced   value  \n");
  ASSERT_EQ(f.commands.size(), 3u);
  EXPECT_EQ(f.commands[1].args, "line one\nline two");
  EXPECT_EQ(f.commands[2].args, "spaced   value");
  // Case-insensitive instructions, CRLF, a BOM, and a comment after blank lines.
  Modelfile g = Modelfile::parse("\xEF\xBB\xBF\r\nfrom m\r\n\r\n  # c\r\nSyStEm hi\r\n");
  ASSERT_EQ(g.commands.size(), 2u);
  EXPECT_EQ(g.commands[1].args, "hi");
  EXPECT_EQ(Modelfile::parse("FROM \"\"\"m\"\"\"").commands[0].args, "m");
}

TEST(Modelfile, Errors) {
  EXPECT_EQ(error_of("PARAMETER temperature 1\n"), "no FROM line");
  EXPECT_EQ(error_of("FROM m\nFOO bar\n"),
            "(line 2): command must be one of \"from\", \"license\", \"template\", \"system\", "
            "\"adapter\", \"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or "
            "\"requires\"");
  EXPECT_EQ(error_of("FROM m\nMESSAGE bot hi\n"),
            "(line 2): message role must be one of \"system\", \"user\", or \"assistant\"");
  EXPECT_EQ(error_of("FROM m\nSYSTEM \"\"\"unterminated\n"), "unexpected EOF");
  EXPECT_EQ(error_of("FROM m\nPARAMETER\n"), "(line 3): command must be one of \"from\", \"license\", "
            "\"template\", \"system\", \"adapter\", \"draft\", \"renderer\", \"parser\", \"parameter\", "
            "\"message\", or \"requires\"");
  EXPECT_EQ(error_of("FROM m\nPARAMETER temp-x 1\n"), "unexpected EOF: temp");
  EXPECT_EQ(error_of("FROM m\nMESSAGE us3r hi\n"), "unexpected EOF: us");
  EXPECT_EQ(error_of("FROM"), "unexpected EOF");
}

TEST(Modelfile, ParameterTypes) {
  EXPECT_EQ(parse_parameter_value("num_ctx", "4096"), 4096);
  EXPECT_EQ(parse_parameter_value("temperature", "0.6").dump(), "0.6");
  EXPECT_EQ(parse_parameter_value("use_mmap", "false"), false);
  EXPECT_EQ(parse_parameter_value("stop", "</s>"), nlohmann::json::array({"</s>"}));
  auto err = [](const char* n, const char* v) {
    try {
      parse_parameter_value(n, v);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(err("bogus", "1"), "unknown parameter 'bogus'");
  EXPECT_EQ(err("num_ctx", "4k"), "invalid int value [4k]");
  EXPECT_EQ(err("top_p", "high"), "invalid float value [high]");
  EXPECT_EQ(err("use_mmap", "yes"), "invalid bool value [yes]");
  EXPECT_TRUE(is_deprecated_parameter("mirostat"));
}

TEST(Modelfile, CreateSpecFromModelfile) {
  Modelfile f = Modelfile::parse(
      "FROM qwen3:8b\nPARAMETER stop a\nPARAMETER stop b\nPARAMETER top_k 20\n"
      "PARAMETER mirostat 1\nMESSAGE user hi\nLICENSE one\nLICENSE two\n");
  std::vector<std::string> warnings;
  CreateSpec s = build_create_spec(f, "/nonexistent-dir", &warnings);
  EXPECT_EQ(s.from, "qwen3:8b");
  EXPECT_TRUE(s.from_path.empty());
  EXPECT_EQ(s.parameters.dump(), R"({"stop":["a","b"],"top_k":20})");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "parameter mirostat is deprecated");
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].role, "user");
  EXPECT_EQ(s.licenses.size(), 2u);
  // A FROM path that exists is a file, resolved against the Modelfile's directory.
  CreateSpec p = build_create_spec(Modelfile::parse("FROM stories260K.gguf\n"), HEARTH_TESTDATA_DIR);
  EXPECT_TRUE(p.from.empty());
  // The build may name the testdata dir through "..": compare the files, not the spellings.
  EXPECT_TRUE(std::filesystem::equivalent(
      p.from_path, std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf"));
  EXPECT_THROW(build_create_spec(Modelfile::parse("FROM m\nREQUIRES one\n"), "."), Error);
}

TEST(Modelfile, PrintsBackAsOllamaDoes) {
  Modelfile f = Modelfile::parse("FROM m\nSYSTEM \"\"\"a \"q\"\nb\"\"\"\nPARAMETER stop x\nMESSAGE user hi there\n");
  EXPECT_EQ(f.to_string(), "FROM m\nSYSTEM \"\"\"a \"q\"\nb\"\"\"\nPARAMETER stop x\nMESSAGE user hi there\n");
  EXPECT_EQ(Modelfile::parse(f.to_string()).commands.size(), f.commands.size());
}

}  // namespace
}  // namespace hearth::store
