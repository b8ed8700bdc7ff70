// WordPiece against llama.cpp: goldens/wpm_llamacpp.json holds the ids llama.cpp's llama-tokenize
// gave (make_wpm_goldens.py) for goldens/wpm_corpus.json (scripts, accents and combining marks,
// CJK, kana, hangul, code, emoji and ZWJ sequences, whitespace runs) on random-gguf's made-up
// WordPiece vocabulary, which this test builds again from the same code
// (tools/random_gguf_encoder.h) and loads through the GGUF vocabulary loader.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../../tools/random_gguf_encoder.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/vocab_loader.h"
#include "tokenizer/tokenizer.h"

namespace hearth::tokenizer {
namespace {

TEST(WpmGolden, MatchesLlamaCppOnTheCorpus) {
  gguf::Writer w;
  w.set_string("general.architecture", "bert");
  ASSERT_EQ(random_gguf::write_wordpiece_vocab(w, 30522), 30522);
  const std::vector<uint8_t> bytes = w.to_bytes();
  const Tokenizer tok(model::load_vocab(gguf::File::from_memory(bytes.data(), bytes.size(), "vocab.gguf")));
  std::ifstream in(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/wpm_llamacpp.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = nlohmann::json::parse(ss.str());
  ASSERT_GE(doc["cases"].size(), 50u);
  for (const auto& c : doc["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok.encode(text), c["ids"].get<std::vector<TokenId>>()) << text;
  }
  // With special tokens: [CLS] (101) first and [SEP] (102) last, as llama-tokenize without --no-bos.
  const std::vector<TokenId> framed = tok.encode("hello", {.add_special = true});
  ASSERT_GE(framed.size(), 3u);
  EXPECT_EQ(framed.front(), 101);
  EXPECT_EQ(framed.back(), 102);
}

}  // namespace
}  // namespace hearth::tokenizer
