#include "chat/output_parser.h"

#include <gtest/gtest.h>

namespace hearth::chat {
namespace {

ChatOutputParser::Output run(const OutputParserOptions& o, const std::vector<std::string>& pieces) {
  ChatOutputParser p(o);
  ChatOutputParser::Output all;
  auto take = [&](ChatOutputParser::Output x) {
    all.thinking += x.thinking;
    all.content += x.content;
    for (auto& c : x.calls) all.calls.push_back(std::move(c));
  };
  for (const auto& s : pieces) take(p.add(s));
  take(p.finish());
  return all;
}

TEST(ChatOutputParser, ThinkingThenToolCallByteByByte) {
  OutputParserOptions o;
  o.thinking_tags = std::make_pair(std::string("<think>"), std::string("</think>"));
  o.tool_format = ToolCallFormat::hermes;
  o.tool_names = {"get_weather"};
  const std::string text =
      "<think>Need weather. <tool_call> here is only thought</think>\n\nChecking.<tool_call>\n"
      "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>";
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  for (const auto& pieces : {std::vector<std::string>{text}, bytes}) {
    auto out = run(o, pieces);
    EXPECT_EQ(out.thinking, "Need weather. <tool_call> here is only thought");
    EXPECT_EQ(out.content, "Checking.");
    ASSERT_EQ(out.calls.size(), 1u);
    EXPECT_EQ(out.calls[0].name, "get_weather");
    EXPECT_EQ(out.calls[0].arguments.dump(), R"({"city":"Oslo"})");
  }
}

TEST(ChatOutputParser, PlainPassThrough) {
  auto out = run(OutputParserOptions{}, {"Hello ", "<think>", "world"});
  EXPECT_EQ(out.content, "Hello <think>world");
  EXPECT_EQ(out.thinking, "");
  EXPECT_TRUE(out.calls.empty());
}

TEST(ChatOutputParser, DeepSeekR1PrefilledThinking) {
  OutputParserOptions o;
  o.thinking_tags = std::make_pair(std::string("<think>"), std::string("</think>"));
  o.start_in_thinking = true;
  auto out = run(o, {"Let", " me", " see", ".\n</", "think", ">\n\n", "4"});
  EXPECT_EQ(out.thinking, "Let me see.\n");
  EXPECT_EQ(out.content, "4");
}

}  // namespace
}  // namespace hearth::chat
