// WordPiece (BERT vocabularies as llama.cpp's converter stores them) on a small hand-built
// vocabulary, where every expected id can be worked out by hand from the rules in wpm_encoder.h.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/wpm_encoder.h"

namespace hearth::tokenizer {
namespace {

using Words = std::vector<std::string>;

TEST(Wpm, SplitLowercasesStripsAccentsAndIsolatesPunctuation) {
  EXPECT_EQ(WpmEncoder::split_words("Hello, WORLD!"), (Words{"hello", ",", "world", "!"}));
  // NFD's first code point strips accents; capitals with accents lower-case too.
  EXPECT_EQ(WpmEncoder::split_words("Café NAÏVE Ångström"), (Words{"cafe", "naive", "angstrom"}));
  // Runs of white space of any kind (tab, newline, no-break space, ideographic space) split once.
  EXPECT_EQ(WpmEncoder::split_words("  a \t\n b\u00A0c\u3000d  "), (Words{"a", "b", "c", "d"}));
  // CJK ideographs are words of their own; kana and hangul are not. llama.cpp keeps only the
  // first code point of each NFD decomposition: "が" loses its voicing mark, a hangul syllable
  // all but its leading consonant.
  EXPECT_EQ(WpmEncoder::split_words("我爱你abc"), (Words{"我", "爱", "你", "abc"}));
  EXPECT_EQ(WpmEncoder::split_words("ひらがな"), (Words{"ひらかな"}));
  EXPECT_EQ(WpmEncoder::split_words("한"), (Words{"\u1112"}));
  // ASCII symbols split; other symbols (emoji) stay inside words; controls and U+FFFD vanish.
  EXPECT_EQ(WpmEncoder::split_words("a+b=c"), (Words{"a", "+", "b", "=", "c"}));
  EXPECT_EQ(WpmEncoder::split_words("x😀y"), (Words{"x😀y"}));
  EXPECT_EQ(WpmEncoder::split_words("a\x01" "b\u200Bc\uFFFD"), (Words{"abc"}));
  EXPECT_EQ(WpmEncoder::split_words("f(x){return 1;}"),
            (Words{"f", "(", "x", ")", "{", "return", "1", ";", "}"}));
  EXPECT_TRUE(WpmEncoder::split_words(" \n\t ").empty());
  // Combining marks (\p{M}) go with the accents: a keycap's variation selector and enclosing mark,
  // a decomposed accent.
  EXPECT_EQ(WpmEncoder::split_words("1\uFE0F\u20E3 e\u0301"), (Words{"1", "e"}));
  // tokenizer.ggml.normalizer.lowercase / strip_accents false keep case and marks.
  EXPECT_EQ(WpmEncoder::split_words("Café e\u0301", false, false), (Words{"Café", "e\u0301"}));
}

// ids: 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], then the pieces ("▁" starts a word).
Vocab bert_vocab() {
  Vocab v;
  v.model = VocabModel::wpm;
  v.pre = PreTokenizer::none;
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]",
              "\u2581un", "aff", "able", "\u2581hello",  // 4 5 6 7
              "\u2581,", "\u2581!", "\u2581我", "\u2581a",  // 8 9 10 11
              "b", "\u2581ab", "\u2581una"};               // 12 13 14
  v.types.assign(v.tokens.size(), TokenType::normal);
  for (int i = 0; i < 4; ++i) v.types[static_cast<size_t>(i)] = TokenType::control;
  v.unk = 1;
  v.bos = 2;
  v.eos = 3;
  v.pad = 0;
  v.add_bos = v.add_eos = true;
  v.add_space_prefix = true;
  return v;
}

TEST(Wpm, LongestMatchFromTheLeftAndUnknownWords) {
  const Tokenizer tok(bert_vocab());
  // "▁unaffable": the longest first piece is "▁una" (14), then "ff..." has no token: the whole
  // word is one [UNK], as llama.cpp discards a word's pieces at the first unmatched position.
  EXPECT_EQ(tok.encode("unaffable"), (std::vector<TokenId>{1}));
  EXPECT_EQ(tok.encode("ab abb b"), (std::vector<TokenId>{13, 13, 12, 1}));
  EXPECT_EQ(tok.encode("Hello, 我!"), (std::vector<TokenId>{7, 8, 10, 9}));
  // With special tokens: [CLS] ... [SEP]; control tokens in the text are recognised on request.
  EXPECT_EQ(tok.encode("hello", {.add_special = true}), (std::vector<TokenId>{2, 7, 3}));
  EXPECT_EQ(tok.encode("hello[SEP]ab", {.add_special = false, .parse_special = true}),
            (std::vector<TokenId>{7, 3, 13}));
  EXPECT_EQ(tok.decode(std::vector<TokenId>{2, 7, 8, 13, 12, 3}), "hello , abb");
}

}  // namespace
}  // namespace hearth::tokenizer
