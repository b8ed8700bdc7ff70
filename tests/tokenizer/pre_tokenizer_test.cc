// The hand-written splitters against pieces worked out from the regexes by hand.

#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hearth::tokenizer {
namespace {

std::vector<std::string> split(PreTokenizer pre, const std::string& text) {
  std::vector<std::string_view> views;
  pre_tokenize(pre, text, views);
  return {views.begin(), views.end()};
}

using V = std::vector<std::string>;

TEST(PreTokenizer, Qwen2SplitsWordsAndSingleDigits) {
  EXPECT_EQ(split(PreTokenizer::qwen2, "Hello world 2024!"),
            (V{"Hello", " world", " ", "2", "0", "2", "4", "!"}));
}

TEST(PreTokenizer, Llama3GroupsDigitsByThree) {
  EXPECT_EQ(split(PreTokenizer::llama3, "x 1234567"), (V{"x", " ", "123", "456", "7"}));
}

TEST(PreTokenizer, ContractionsCaseInsensitiveExceptGpt2) {
  EXPECT_EQ(split(PreTokenizer::llama3, "I'M we'LL"), (V{"I", "'M", " we", "'LL"}));
  EXPECT_EQ(split(PreTokenizer::gpt2, "I'M we'll"), (V{"I", "'", "M", " we", "'ll"}));
}

TEST(PreTokenizer, WhitespaceLeavesLastSpaceToNextWord) {
  EXPECT_EQ(split(PreTokenizer::qwen2, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(split(PreTokenizer::qwen2, "a   "), (V{"a", "   "}));  // at the end: the whole run
  EXPECT_EQ(split(PreTokenizer::gpt2, "a   b"), (V{"a", "  ", " b"}));
}

TEST(PreTokenizer, NewlinesEndWhitespaceRuns) {
  // \s*[\r\n]+ takes spaces up to and including the last newline of the run.
  EXPECT_EQ(split(PreTokenizer::llama3, "x \n \n  y"), (V{"x", " \n \n", " ", " y"}));
  // Punctuation swallows the newlines after it.
  EXPECT_EQ(split(PreTokenizer::qwen2, "ok.\n\nNext"), (V{"ok", ".\n\n", "Next"}));
  // GPT-2 has no newline alternative.
  EXPECT_EQ(split(PreTokenizer::gpt2, "x\n\ny"), (V{"x", "\n", "\n", "y"}));
}

TEST(PreTokenizer, LetterRunTakesOneLeadingNonLetter) {
  EXPECT_EQ(split(PreTokenizer::qwen2, "(hello) $x"), (V{"(hello", ")", " $", "x"}));
}

TEST(PreTokenizer, DeepSeekV3Steps) {
  // Digits in threes first, then CJK/kana runs, then words and punctuation.
  EXPECT_EQ(split(PreTokenizer::deepseek_v3, "abc12345中文かな def"),
            (V{"abc", "123", "45", "中文かな", " def"}));
  EXPECT_EQ(split(PreTokenizer::deepseek_v3, "Hello, world! x.net ."),
            (V{"Hello", ",", " world", "!", " x", ".net", " ."}));
  // A combining mark continues a word.
  EXPECT_EQ(split(PreTokenizer::deepseek_v3, "cafe\u0301 x"), (V{"cafe\u0301", " x"}));
}

TEST(PreTokenizer, DeepSeekV3KeepsUnmatchedStretchesTogether) {
  // U+200D (ZWJ) is in no class the third split matches: two in a row form one piece.
  EXPECT_EQ(split(PreTokenizer::deepseek_v3, "👨\u200d\u200d👩"), (V{"👨", "\u200d\u200d", "👩"}));
}

TEST(PreTokenizer, DeepSeekLlmSteps) {
  // Newlines alone; cased-letter words with one leading space; punctuation (fullwidth too);
  // trailing spaces; CJK/Hangul runs; digit runs.
  EXPECT_EQ(split(PreTokenizer::deepseek_llm, "Hello World\n123 中文 ！"),
            (V{"Hello", " World", "\n", "123", " ", "中文", " ！"}));
  EXPECT_EQ(split(PreTokenizer::deepseek_llm, "é.. 한국  "), (V{"é", "..", " ", "한국", "  "}));
}

TEST(PreTokenizer, PiecesConcatenateToInput) {
  const std::string texts[] = {"", " ", "\t\n\r\n  \u3000x", "ñ\u0303😀👩‍💻 12,345.6 e\u0301", "'''s''", "a\u00a0b"};
  for (const PreTokenizer pre : {PreTokenizer::gpt2, PreTokenizer::llama3, PreTokenizer::qwen2,
                                 PreTokenizer::deepseek_v3, PreTokenizer::deepseek_llm}) {
    for (const std::string& t : texts) {
      std::string joined;
      for (const std::string& p : split(pre, t)) {
        EXPECT_FALSE(p.empty());
        joined += p;
      }
      EXPECT_EQ(joined, t) << pre_tokenizer_name(pre);
    }
  }
}

}  // namespace
}  // namespace hearth::tokenizer
