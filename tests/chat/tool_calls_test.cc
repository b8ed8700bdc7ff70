#include "chat/tool_calls.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

struct Result {
  std::string content;
  std::vector<ToolCall> calls;
};

Result feed(ToolCallFormat f, const std::vector<std::string>& pieces,
            std::vector<std::string> names = {"get_weather", "search"}) {
  ToolCallParser p(f, std::move(names));
  Result r;
  auto take = [&](ToolCallParser::Output o) {
    r.content += o.content;
    for (auto& c : o.calls) r.calls.push_back(std::move(c));
  };
  for (const auto& piece : pieces) take(p.add(piece));
  take(p.finish());
  return r;
}

std::vector<std::string> bytes(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

// Whole, byte by byte, and cut at every point: the same result.
void expect_parse(ToolCallFormat f, const std::string& text, const std::string& content,
                  const std::vector<std::pair<std::string, std::string>>& calls) {
  std::vector<std::vector<std::string>> splits = {{text}, bytes(text)};
  for (size_t i = 0; i <= text.size(); i += 3) splits.push_back({text.substr(0, i), text.substr(i)});
  for (const auto& pieces : splits) {
    Result r = feed(f, pieces);
    EXPECT_EQ(r.content, content) << "pieces: " << pieces.size();
    ASSERT_EQ(r.calls.size(), calls.size()) << "pieces: " << pieces.size();
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(r.calls[i].name, calls[i].first);
      EXPECT_EQ(r.calls[i].arguments.dump(), calls[i].second);
      EXPECT_EQ(r.calls[i].index, static_cast<int>(i));
    }
  }
}

TEST(ToolCallParser, HermesQwen) {
  expect_parse(ToolCallFormat::hermes,
               "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\", "
               "\"unit\": \"c\"}}\n</tool_call>",
               "Let me check.\n", {{"get_weather", R"({"location":"Paris","unit":"c"})"}});
}

TEST(ToolCallParser, HermesSeveralCallsKeyOrderAndStringArguments) {
  expect_parse(ToolCallFormat::hermes,
               "<tool_call>{\"name\": \"search\", \"arguments\": {\"z\": 1, \"a\": [1, 2]}}</tool_call>\n"
               "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"location\\\": \\\"Oslo\\\"}\"}</tool_call>",
               "\n", {{"search", R"({"z":1,"a":[1,2]})"}, {"get_weather", R"({"location":"Oslo"})"}});
}

TEST(ToolCallParser, HermesMalformedJsonIsContent) {
  expect_parse(ToolCallFormat::hermes, "a<tool_call>{\"name\": \"get_weather\", \"arguments\": {oops</tool_call>b",
               "a<tool_call>{\"name\": \"get_weather\", \"arguments\": {oops</tool_call>b", {});
  expect_parse(ToolCallFormat::hermes, "<tool_call>[1, 2]</tool_call>", "<tool_call>[1, 2]</tool_call>", {});
  expect_parse(ToolCallFormat::hermes, "<tool_call>{\"arguments\": {}}</tool_call>",
               "<tool_call>{\"arguments\": {}}</tool_call>", {});
}

TEST(ToolCallParser, HermesUnterminatedAtEnd) {
  expect_parse(ToolCallFormat::hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"x\"}}\n", "",
               {{"search", R"({"q":"x"})"}});
  expect_parse(ToolCallFormat::hermes, "<tool_call>\n{\"name\": \"sea", "<tool_call>\n{\"name\": \"sea", {});
  expect_parse(ToolCallFormat::hermes, "text <tool_ca", "text <tool_ca", {});
}

TEST(ToolCallParser, DeepSeek) {
  const std::string out =
      "I'll look it up.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
      "{\"location\": \"Paris\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>search\n```json\n"
      "{\"q\": \"news\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  expect_parse(ToolCallFormat::deepseek, out, "I'll look it up.",
               {{"get_weather", R"({"location":"Paris"})"}, {"search", R"({"q":"news"})"}});
}

// DeepSeek-V3.1 writes the name before the separator and the arguments bare after it.
TEST(ToolCallParser, DeepSeekV31NameThenArguments) {
  const std::string out =
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"location\": \"Paris\"}"
      "<｜tool▁call▁end｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"q\": \"news\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  expect_parse(ToolCallFormat::deepseek, out, "",
               {{"get_weather", R"({"location":"Paris"})"}, {"search", R"({"q":"news"})"}});
}

TEST(ToolCallParser, DeepSeekMalformedIsContent) {
  const std::string bad =
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"location\": "
      "```<｜tool▁call▁end｜><｜tool▁calls▁end｜>after";
  expect_parse(ToolCallFormat::deepseek, bad, bad, {});
}

TEST(ToolCallParser, LlamaJson) {
  expect_parse(ToolCallFormat::json, "{\"name\": \"get_weather\", \"parameters\": {\"location\": \"Paris\"}}", "",
               {{"get_weather", R"({"location":"Paris"})"}});
  expect_parse(ToolCallFormat::json, "<|python_tag|>{\"name\": \"search\", \"arguments\": {\"q\": \"}{\"}}", "",
               {{"search", R"({"q":"}{"})"}});
  expect_parse(ToolCallFormat::json,
               "[{\"name\": \"search\", \"parameters\": {}}, {\"name\": \"get_weather\", \"parameters\": {\"l\": 1}}]",
               "", {{"search", "{}"}, {"get_weather", R"({"l":1})"}});
}

TEST(ToolCallParser, LlamaJsonThatIsNotACallIsContent) {
  expect_parse(ToolCallFormat::json, "Sure! {\"name\": \"get_weather\"}", "Sure! {\"name\": \"get_weather\"}", {});
  expect_parse(ToolCallFormat::json, "{\"name\": \"unknown_tool\", \"parameters\": {}}",
               "{\"name\": \"unknown_tool\", \"parameters\": {}}", {});
  expect_parse(ToolCallFormat::json, "{\"name\": \"search\", \"parameters\": {\"q\": ", "{\"name\": \"search\", \"parameters\": {\"q\": ", {});
  expect_parse(ToolCallFormat::json, "{not json} tail", "{not json} tail", {});
}

TEST(ToolCallParser, NoFormatPassesThrough) {
  expect_parse(ToolCallFormat::none, "<tool_call>{\"name\": \"search\"}</tool_call>",
               "<tool_call>{\"name\": \"search\"}</tool_call>", {});
}

TEST(ToolCallParser, RandomGarbageNeverCrashesAndKeepsText) {
  std::mt19937 rng(7);
  const std::vector<std::string> atoms = {"<tool_call>", "</tool_call>", "{", "}", "\"name\"", ":", "\"search\"",
                                          ",", "\"arguments\"", "[", "]", "\\", "\"", "x", " ", "\n",
                                          "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>",
                                          "```json", "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>", "<|python_tag|>"};
  for (auto f : {ToolCallFormat::hermes, ToolCallFormat::deepseek, ToolCallFormat::json}) {
    for (int iter = 0; iter < 300; ++iter) {
      std::vector<std::string> pieces;
      std::string all;
      for (int k = 0; k < 40; ++k) {
        pieces.push_back(atoms[rng() % atoms.size()]);
        all += pieces.back();
      }
      Result r = feed(f, pieces);
      if (r.calls.empty()) {
        // Nothing parsed: the text survives, apart from what the json format may drop: whitespace
        // and a leading <|python_tag|> marker.
        std::string lead = all;
        while (true) {
          size_t k = lead.find_first_not_of(" \n");
          if (k == std::string::npos || lead.compare(k, 14, "<|python_tag|>") != 0) break;
          lead.erase(0, k + 14);
        }
        std::string a, b;
        for (char c : lead) if (c != ' ' && c != '\n') a += c;
        for (char c : r.content) if (c != ' ' && c != '\n') b += c;
        if (f != ToolCallFormat::json) EXPECT_EQ(r.content, all);
        else EXPECT_EQ(b, a);
      }
    }
  }
}

std::string read_template(const std::string& name) {
  std::ifstream f(std::string(HEARTH_TESTDATA_DIR) + "/templates/" + name + ".jinja");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ToolCallFormat, DetectedFromRealTemplates) {
  EXPECT_EQ(detect_tool_call_format(read_template("Qwen-Qwen3")), ToolCallFormat::hermes);
  EXPECT_EQ(detect_tool_call_format(read_template("Qwen-Qwen2.5-7B-Instruct")), ToolCallFormat::hermes);
  EXPECT_EQ(detect_tool_call_format(read_template("NousResearch-Hermes-3-Llama-3.1-8B-tool_use")), ToolCallFormat::hermes);
  EXPECT_EQ(detect_tool_call_format(read_template("deepseek-ai-DeepSeek-V3")), ToolCallFormat::deepseek);
  EXPECT_EQ(detect_tool_call_format(read_template("llama-cpp-deepseek-r1")), ToolCallFormat::deepseek);
  EXPECT_EQ(detect_tool_call_format(read_template("meta-llama-Llama-3.1-8B-Instruct")), ToolCallFormat::json);
  EXPECT_EQ(detect_tool_call_format(read_template("google-gemma-2-2b-it")), ToolCallFormat::none);
  EXPECT_FALSE(template_supports_tools(read_template("google-gemma-2-2b-it")));
  EXPECT_FALSE(template_supports_tools(read_template("microsoft-Phi-3.5-mini-instruct")));
  EXPECT_TRUE(template_supports_tools(read_template("mistralai-Mistral-Nemo-Instruct-2407")));
  EXPECT_TRUE(template_supports_tools("{{ range .Tools }}{{ .Function.Name }}{{ end }}"));
  EXPECT_FALSE(template_supports_tools("{{ range .Messages }}{{ .Content }}{{ end }}"));
}

TEST(ToolCallErrors, OllamaText) {
  EXPECT_EQ(tools_not_supported_message("registry.ollama.ai/library/deepseek-r1:7b"),
            "registry.ollama.ai/library/deepseek-r1:7b does not support tools");
}

}  // namespace
}  // namespace hearth::chat
