// SentencePiece BPE, specials and decoding on a small hand-built vocabulary, where every
// expected id can be worked out by hand.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace hearth::tokenizer {
namespace {

// ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the pieces below.
constexpr TokenId kByte0 = 3;
TokenId byte_id(uint8_t b) { return kByte0 + b; }

struct Piece {
  const char* text;
  float score;
  TokenType type;
};

const Piece kPieces[] = {
    {"\u2581", -1.0f, TokenType::normal},       // 259
    {"h", -2.0f, TokenType::normal},            // 260
    {"e", -2.0f, TokenType::normal},            // 261
    {"l", -2.0f, TokenType::normal},            // 262
    {"o", -2.0f, TokenType::normal},            // 263
    {"he", -3.0f, TokenType::normal},           // 264
    {"ll", -3.5f, TokenType::normal},           // 265
    {"llo", -4.0f, TokenType::normal},          // 266
    {"hello", -5.0f, TokenType::normal},        // 267
    {"\u2581hello", -6.0f, TokenType::normal},  // 268
    {"\u2581h", -7.0f, TokenType::normal},      // 269
    {"<tool>", 0.0f, TokenType::user_defined},  // 270
    {"[ctl]", 0.0f, TokenType::control},        // 271
    {"\u4e2d", -2.0f, TokenType::normal},       // 272: 中
};

Vocab spm_vocab() {
  Vocab v;
  v.model = VocabModel::spm;
  v.pre = PreTokenizer::none;
  auto add = [&](std::string text, float score, TokenType type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, TokenType::unknown);
  add("<s>", 0, TokenType::control);
  add("</s>", 0, TokenType::control);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0, TokenType::byte);
  }
  for (const Piece& p : kPieces) add(p.text, p.score, p.type);
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

TEST(Spm, MergesByScoreWithDummyPrefix) {
  const Tokenizer tok(spm_vocab());
  // "▁hello" is reachable: ▁ + h -> ▁h? No: "he"(-3) and "ll"(-3.5) merge first, then "llo",
  // "hello", and finally "▁hello".
  EXPECT_EQ(tok.encode("hello"), (std::vector<TokenId>{268}));
  EXPECT_EQ(tok.encode("hello", {.add_special = true}), (std::vector<TokenId>{1, 268}));
  // Two spaces: the first ▁ stays alone (no "▁▁" token).
  EXPECT_EQ(tok.encode(" hello"), (std::vector<TokenId>{259, 268}));
}

TEST(Spm, ByteFallbackForUnknownCharacters) {
  const Tokenizer tok(spm_vocab());
  // é = C3 A9 has no piece: its bytes; 中 has one.
  EXPECT_EQ(tok.encode("\u00e9\u4e2d"), (std::vector<TokenId>{259, byte_id(0xC3), byte_id(0xA9), 272}));
}

TEST(Spm, SpecialTokensOnlyWhereAllowed) {
  const Tokenizer tok(spm_vocab());
  // User-defined tokens always match; the text after a special token gets a dummy prefix again.
  EXPECT_EQ(tok.encode("<tool>hello"), (std::vector<TokenId>{270, 268}));
  EXPECT_EQ(tok.encode("x<tool>"), (std::vector<TokenId>{259, byte_id('x'), 270}));
  const std::vector<TokenId> plain = tok.encode("[ctl]");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 271), 0);
  EXPECT_EQ(tok.encode("[ctl]hello", {.parse_special = true}), (std::vector<TokenId>{271, 268}));
  EXPECT_EQ(tok.encode("<s>", {.parse_special = true}), (std::vector<TokenId>{1}));
}

TEST(Spm, DecodeRemovesDummyPrefixAndHidesControls) {
  const Tokenizer tok(spm_vocab());
  const std::vector<TokenId> ids = {1, 268, 259, 269, byte_id(0xC3), byte_id(0xA9), 2};
  EXPECT_EQ(tok.decode(ids), "hello  h\u00e9");
  EXPECT_EQ(tok.decode(ids, true), "<s>hello  h\u00e9</s>");
  EXPECT_EQ(tok.piece(268), " hello");
  EXPECT_EQ(tok.piece(byte_id('A')), "A");
  EXPECT_EQ(tok.piece(1), "");
  EXPECT_EQ(tok.piece(9999), "");
  EXPECT_TRUE(tok.is_end_of_generation(2));
  EXPECT_FALSE(tok.is_end_of_generation(268));
}

// Harmony's markers (gpt-oss): with <|end|>, <|return|> and <|call|> all present as control
// tokens, <|end|> ends only a message (thinking is followed by the final channel), so it does not
// end the generation even as the file's eot; <|return|> and <|call|> do. Without <|call|>, the
// usual rule (<|end|> ends a turn, Phi-3) stands.
TEST(Spm, HarmonyMarkersEndTheGenerationAsLlamaCppDecides) {
  for (bool with_call : {true, false}) {
    Vocab v = spm_vocab();
    const auto add = [&](const char* text) {
      v.tokens.push_back(text);
      v.scores.push_back(0);
      v.types.push_back(TokenType::control);
      return static_cast<TokenId>(v.tokens.size() - 1);
    };
    const TokenId end = add("<|end|>"), ret = add("<|return|>");
    const TokenId call = with_call ? add("<|call|>") : kNoToken;
    v.eot = end;
    const Tokenizer tok(v);
    EXPECT_EQ(tok.is_end_of_generation(end), !with_call);
    EXPECT_EQ(tok.is_end_of_generation(ret), with_call);
    if (with_call) EXPECT_TRUE(tok.is_end_of_generation(call));
    EXPECT_TRUE(tok.is_end_of_generation(2));  // the file's eos still ends it
  }
}

TEST(Spm, EmptyTextAndBosOnly) {
  const Tokenizer tok(spm_vocab());
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_EQ(tok.encode("", {.add_special = true}), (std::vector<TokenId>{1}));
}

TEST(Spm, RejectsInconsistentVocab) {
  Vocab v = spm_vocab();
  v.scores.pop_back();
  EXPECT_THROW(Tokenizer{v}, Error);
  Vocab w = spm_vocab();
  w.bos = 100000;
  EXPECT_THROW(Tokenizer{w}, Error);
}

TEST(Spm, NanScoresMergeLast) {
  Vocab v = spm_vocab();
  v.scores[264] = std::nanf("");  // "he"
  const Tokenizer tok(std::move(v));
  // Without "he" first, "ll" and "llo" go first and "hello" can no longer form.
  EXPECT_EQ(tok.encode("hello"), (std::vector<TokenId>{269, 261, 266}));
}

TEST(StreamDecoder, HoldsBackSplitCharacters) {
  const Tokenizer tok(spm_vocab());
  StreamDecoder dec(tok);
  // 😀 = F0 9F 98 80 as four byte tokens: nothing until the last one.
  EXPECT_EQ(dec.push(byte_id(0xF0)), "");
  EXPECT_EQ(dec.push(byte_id(0x9F)), "");
  EXPECT_EQ(dec.push(byte_id(0x98)), "");
  EXPECT_TRUE(dec.has_pending());
  EXPECT_EQ(dec.push(byte_id(0x80)), "\U0001F600");
  // 中 = E4 B8 AD split 1 + 2, with a normal token completing the pending bytes.
  EXPECT_EQ(dec.push(byte_id(0xE4)), "");
  EXPECT_EQ(dec.push(byte_id(0xB8)), "");
  EXPECT_EQ(dec.push(byte_id(0xAD)), "\u4e2d");
  EXPECT_EQ(dec.push(268), " hello");
  EXPECT_FALSE(dec.has_pending());
  EXPECT_EQ(dec.finish(), "");
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
  const Tokenizer tok(spm_vocab());
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(byte_id(0xFF)), "\uFFFD");      // never valid: at once
  EXPECT_EQ(dec.push(byte_id(0xE4)), "");
  EXPECT_EQ(dec.push(260), "\uFFFDh");                // E4 then 'h': the E4 is broken
  EXPECT_EQ(dec.push(byte_id(0xF0)), "");
  EXPECT_EQ(dec.push(byte_id(0x9F)), "");
  EXPECT_EQ(dec.finish(), "\uFFFD");                  // cut off at the end: one U+FFFD
  EXPECT_FALSE(dec.has_pending());
  EXPECT_EQ(dec.push(260), "h");                       // usable again after finish
}

TEST(StreamDecoder, ControlTokensRenderedOnlyWhenAsked) {
  const Tokenizer tok(spm_vocab());
  StreamDecoder hidden(tok);
  StreamDecoder shown(tok, true);
  EXPECT_EQ(hidden.push(2), "");
  EXPECT_EQ(shown.push(2), "</s>");
}

}  // namespace
}  // namespace hearth::tokenizer
