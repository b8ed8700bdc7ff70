#include "cli/answer_printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hearth::cli {
namespace {

std::string wrap(const std::vector<std::string>& pieces, int limit) {
  std::string out;
  WordWrapper w([&](std::string_view s) { out.append(s); }, limit);
  for (const auto& p : pieces) w.add(p);
  w.flush();
  return out;
}

size_t longest_line(const std::string& s) {
  size_t best = 0;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) best = std::max(best, line.size());
  return best;
}

TEST(WordWrap, BreaksBetweenWordsWhateverTheChunking) {
  const std::string text = "the quick brown fox jumps over the lazy dog and keeps running far away";
  const std::string whole = wrap({text}, 20);
  EXPECT_LE(longest_line(whole), 20u);
  // Streaming one byte at a time gives the same text.
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  EXPECT_EQ(wrap(bytes, 20), whole);
  EXPECT_EQ(whole,
            "the quick brown fox\n"
            "jumps over the lazy\n"
            "dog and keeps\n"
            "running far away");
}

TEST(WordWrap, KeepsNewlinesIndentAndSplitsOverlongWords) {
  EXPECT_EQ(wrap({"a\n  b"}, 20), "a\n  b");
  const std::string out = wrap({"x " + std::string(30, 'y')}, 10);
  EXPECT_LE(longest_line(out), 10u);
  EXPECT_EQ(wrap({"no wrap at all"}, 0), "no wrap at all");
}

TEST(WordWrap, Utf8SplitAcrossChunksAndWideCharacters) {
  EXPECT_EQ(wrap({"caf\xc3", "\xa9 ok"}, 20), "café ok");
  const std::string cjk = wrap({"你好世界你好世界你好"}, 8);  // width 2 each: 4 per line
  EXPECT_EQ(cjk, "你好世界\n你好世界\n你好");
}

TEST(AnswerPrinter, ThinkingBlockThenAnswer) {
  std::string out;
  AnswerStyle style;
  style.wrap = false;
  AnswerPrinter p([&](std::string_view s) { out.append(s); }, style);
  p.thinking("Let me");
  p.thinking(" think.");
  p.content("Hello");
  p.content("!");
  p.finish();
  EXPECT_EQ(out, "Thinking...\nLet me think.\n...done thinking.\n\nHello!");
  EXPECT_EQ(p.thinking_text(), "Let me think.");
  EXPECT_EQ(p.content_text(), "Hello!");
}

TEST(AnswerPrinter, HiddenThinkingAndColor) {
  std::string out;
  AnswerStyle style;
  style.hide_thinking = true;
  AnswerPrinter p([&](std::string_view s) { out.append(s); }, style);
  p.thinking("secret");
  p.content("Answer");
  p.finish();
  EXPECT_EQ(out, "Answer");
  EXPECT_EQ(p.thinking_text(), "secret");

  out.clear();
  style.hide_thinking = false;
  style.color = true;
  AnswerPrinter c([&](std::string_view s) { out.append(s); }, style);
  c.thinking("t\n");
  c.content("a");
  c.finish();
  EXPECT_NE(out.find("\x1b[1mThinking...\n"), std::string::npos);
  EXPECT_NE(out.find("t\n\x1b[38;5;245m\x1b[1m...done thinking.\n\n\x1b[0ma"), std::string::npos);
}

}  // namespace
}  // namespace hearth::cli
