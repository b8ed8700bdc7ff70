#include "chat/thinking.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace hearth::chat {
namespace {

struct Split {
  std::string thinking, content;
};

Split feed(ThinkingParser p, const std::vector<std::string>& pieces) {
  Split s;
  for (const auto& piece : pieces) {
    auto o = p.add(piece);
    s.thinking += o.thinking;
    s.content += o.content;
  }
  auto o = p.finish();
  s.thinking += o.thinking;
  s.content += o.content;
  return s;
}

std::vector<std::string> bytes(const std::string& s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

// Every way of cutting `text` into two pieces, and one byte at a time, gives the same split.
void expect_split(const std::string& text, const std::string& thinking, const std::string& content,
                  bool start_in_thinking = false) {
  ThinkingParser base("<think>", "</think>", start_in_thinking);
  for (size_t i = 0; i <= text.size(); ++i) {
    Split s = feed(base, {text.substr(0, i), text.substr(i)});
    EXPECT_EQ(s.thinking, thinking) << "cut at " << i;
    EXPECT_EQ(s.content, content) << "cut at " << i;
  }
  Split s = feed(base, bytes(text));
  EXPECT_EQ(s.thinking, thinking) << "byte at a time";
  EXPECT_EQ(s.content, content) << "byte at a time";
}

TEST(ThinkingParser, SplitsThinkingFromContentAtAnyPieceBoundary) {
  expect_split("<think>Let me think.</think>\n\nThe answer is 4.", "Let me think.", "The answer is 4.");
}

TEST(ThinkingParser, TokenPieces) {
  Split s = feed(ThinkingParser(), {"<think>", "\n", "Okay", ",", " so", "</think>", "\n\n", "Hi", " there"});
  EXPECT_EQ(s.thinking, "Okay, so");
  EXPECT_EQ(s.content, "Hi there");
  s = feed(ThinkingParser(), {"<", "think", ">", "a<b", "</", "think", ">", "c"});
  EXPECT_EQ(s.thinking, "a<b");
  EXPECT_EQ(s.content, "c");
}

TEST(ThinkingParser, LeadingWhitespaceIsSkipped) {
  expect_split(" \n <think> x </think> y", "x ", "y");
}

TEST(ThinkingParser, TextBeforeTheTagMeansNoThinking) {
  expect_split("Hello <think>not thinking</think>", "", "Hello <think>not thinking</think>");
  expect_split("<thinking is fun", "", "<thinking is fun");
}

TEST(ThinkingParser, PromptThatOpensThinking) {
  // DeepSeek-R1 templates end the prompt with "<think>\n": output starts inside thinking.
  expect_split("I should add.\n</think>\n\n4", "I should add.\n", "4", true);
  expect_split("\n</think>\n\nDirect answer", "", "Direct answer", true);
}

TEST(ThinkingParser, UnterminatedThinkingIsReleasedAtFinish) {
  expect_split("<think>still going", "still going", "");
  Split s = feed(ThinkingParser(), {"<think>abc</thi"});
  EXPECT_EQ(s.thinking, "abc</thi");
  EXPECT_EQ(s.content, "");
  s = feed(ThinkingParser(), {"  <thi"});
  EXPECT_EQ(s.content, "<thi");
}

TEST(ThinkingParser, MultibyteTextSplitAnywhere) {
  expect_split("<think>думаю 思考</think>ответ ✓", "думаю 思考", "ответ ✓");
}

TEST(ThinkingParser, CustomTags) {
  ThinkingParser p("<|START_THINKING|>", "<|END_THINKING|>");
  Split s = feed(p, bytes("<|START_THINKING|>plan<|END_THINKING|>done"));
  EXPECT_EQ(s.thinking, "plan");
  EXPECT_EQ(s.content, "done");
}

TEST(ResolveThink, OllamaDefaults) {
  ThinkSetting s = resolve_think(nullptr, true, "m");
  EXPECT_TRUE(s.enabled);
  EXPECT_FALSE(s.explicitly_set);
  EXPECT_EQ(s.level, "medium");
  s = resolve_think(nullptr, false, "m");
  EXPECT_FALSE(s.enabled);
  s = resolve_think(false, false, "m");  // false is accepted everywhere
  EXPECT_FALSE(s.enabled);
  EXPECT_TRUE(s.explicitly_set);
  s = resolve_think(true, true, "m");
  EXPECT_EQ(s.level, "medium");
  s = resolve_think("high", true, "m");
  EXPECT_EQ(s.level, "high");
  s = resolve_think("max", true, "m");
  EXPECT_EQ(s.level, "max");  // Ollama's ThinkValue.String(); only harmony reads it as "high"
  s = resolve_think("low", true, "m");
  EXPECT_EQ(s.level, "low");
}

TEST(ResolveThink, Errors) {
  try {
    resolve_think(true, false, "llama3.2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_STREQ(e.what(), "\"llama3.2\" does not support thinking");
  }
  EXPECT_THROW(resolve_think("extreme", true, "m"), Error);
  EXPECT_THROW(resolve_think(3, true, "m"), Error);
}

TEST(FilterThinkTags, StripsOnlyAssistantTurnsBeforeTheLastUser) {
  std::vector<Message> msgs(5);
  msgs[0].role = "user";
  msgs[0].content = "<think>user text stays</think>q";
  msgs[1].role = "assistant";
  msgs[1].content = "<think>old reasoning</think>\n\nold answer";
  msgs[1].thinking = "kept";
  msgs[2].role = "user";
  msgs[2].content = "next";
  msgs[3].role = "assistant";
  msgs[3].content = "<think>latest</think>answer";
  msgs[4].role = "tool";
  msgs[4].content = "<think>x</think>";
  filter_think_tags(msgs);
  EXPECT_EQ(msgs[0].content, "<think>user text stays</think>q");
  EXPECT_EQ(msgs[1].content, "old answer");
  EXPECT_EQ(msgs[1].thinking, "kept");
  EXPECT_EQ(msgs[3].content, "<think>latest</think>answer");
  EXPECT_EQ(msgs[4].content, "<think>x</think>");
}

TEST(PromptOpensThinking, Detects) {
  EXPECT_TRUE(prompt_opens_thinking("<｜Assistant｜><think>\n"));
  EXPECT_FALSE(prompt_opens_thinking("<|im_start|>assistant\n"));
  EXPECT_FALSE(prompt_opens_thinking("<think>\n\n</think>\n\n"));
}

}  // namespace
}  // namespace hearth::chat
