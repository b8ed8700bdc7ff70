// model::load_vocab on small in-memory GGUFs: defaults per tokenizer model, key overrides, and
// errors a user can act on for broken vocabularies.

#include "model/vocab_loader.h"

#include <gtest/gtest.h>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace hearth::model {
namespace {

using tokenizer::kNoToken;
using tokenizer::TokenType;

tokenizer::Vocab load(const gguf::Writer& w) {
  const std::vector<uint8_t> bytes = w.to_bytes();
  const gguf::File f = gguf::File::from_memory(bytes.data(), bytes.size(), "test.gguf");
  return load_vocab(f);
}

gguf::Writer bpe_writer() {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  // a, b, ab, Ġ (space), <|end|>
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab", "\xC4\xA0", "<|end|>"});
  w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 3});
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  w.set_u32("tokenizer.ggml.eos_token_id", 4);
  return w;
}

TEST(VocabLoader, BytePairDefaultsAndTokenizes) {
  const tokenizer::Vocab v = load(bpe_writer());
  EXPECT_EQ(v.model, tokenizer::VocabModel::bpe);
  EXPECT_EQ(v.pre, tokenizer::PreTokenizer::qwen2);
  EXPECT_EQ(v.eos, 4);
  EXPECT_EQ(v.bos, kNoToken);
  EXPECT_FALSE(v.add_bos);
  EXPECT_EQ(v.type(4), TokenType::control);
  const tokenizer::Tokenizer tok(v);
  EXPECT_EQ(tok.encode("ab a"), (std::vector<tokenizer::TokenId>{2, 3, 0}));
  EXPECT_EQ(tok.encode("<|end|>", {.parse_special = true}), (std::vector<tokenizer::TokenId>{4}));
  EXPECT_TRUE(tok.is_end_of_generation(4));
}

TEST(VocabLoader, LlamaBpeAddsBosByDefault) {
  gguf::Writer w = bpe_writer();
  w.set_string("tokenizer.ggml.pre", "llama-bpe");
  w.set_u32("tokenizer.ggml.bos_token_id", 4);
  tokenizer::Vocab v = load(w);
  EXPECT_TRUE(v.add_bos);
  EXPECT_TRUE(v.ignore_merges);
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  v = load(w);
  EXPECT_FALSE(v.add_bos);
}

TEST(VocabLoader, SentencePieceDefaults) {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  const tokenizer::Vocab v = load(w);
  EXPECT_EQ(v.model, tokenizer::VocabModel::spm);
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unk, 0);
  EXPECT_TRUE(v.add_bos);
  EXPECT_TRUE(v.add_space_prefix);
  const tokenizer::Tokenizer tok(v);
  EXPECT_EQ(tok.encode("a", {.add_special = true}), (std::vector<tokenizer::TokenId>{1, 3}));
}

void expect_error(const gguf::Writer& w, ErrorCode code, const std::string& needle) {
  try {
    load(w);
    ADD_FAILURE() << "no error; expected " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.gguf"), std::string::npos) << e.what();
  }
}

TEST(VocabLoader, ErrorsNameTheProblem) {
  gguf::Writer unknown_model = bpe_writer();
  unknown_model.set_string("tokenizer.ggml.model", "rwkv");
  expect_error(unknown_model, ErrorCode::unsupported, "rwkv");

  gguf::Writer unknown_pre = bpe_writer();
  unknown_pre.set_string("tokenizer.ggml.pre", "klingon");
  expect_error(unknown_pre, ErrorCode::unsupported, "klingon");

  gguf::Writer no_tokens = bpe_writer();
  no_tokens.remove("tokenizer.ggml.tokens");
  expect_error(no_tokens, ErrorCode::not_found, "tokenizer.ggml.tokens");

  gguf::Writer no_merges = bpe_writer();
  no_merges.remove("tokenizer.ggml.merges");
  expect_error(no_merges, ErrorCode::not_found, "tokenizer.ggml.merges");

  gguf::Writer short_types = bpe_writer();
  short_types.set_i32_array("tokenizer.ggml.token_type", {1, 1});
  expect_error(short_types, ErrorCode::corrupt, "token_type");
}

TEST(VocabLoader, OutOfRangeIdsAreDropped) {
  gguf::Writer w = bpe_writer();
  w.set_u32("tokenizer.ggml.eos_token_id", 99);
  w.set_bool("tokenizer.ggml.add_eos_token", true);
  const tokenizer::Vocab v = load(w);
  EXPECT_EQ(v.eos, kNoToken);
  EXPECT_FALSE(v.add_eos);
}


TEST(VocabLoader, PreTokenizerNamesCarryLlamaCppsFlags) {
  gguf::Writer w = bpe_writer();
  w.set_u32("tokenizer.ggml.bos_token_id", 4);
  w.set_string("tokenizer.ggml.pre", "tekken");
  tokenizer::Vocab v = load(w);
  EXPECT_EQ(v.pre, tokenizer::PreTokenizer::tekken);
  EXPECT_TRUE(v.ignore_merges);
  EXPECT_TRUE(v.add_bos);
  w.set_string("tokenizer.ggml.pre", "dbrx");  // Phi-4: Llama 3's regex without its flags
  v = load(w);
  EXPECT_EQ(v.pre, tokenizer::PreTokenizer::llama3);
  EXPECT_FALSE(v.ignore_merges);
  EXPECT_FALSE(v.add_bos);
  w.set_string("tokenizer.ggml.pre", "smollm");
  EXPECT_EQ(load(w).pre, tokenizer::PreTokenizer::starcoder);
}

TEST(VocabLoader, OllamasDefaultPreMeansTheFamilysSplit) {
  gguf::Writer w = bpe_writer();
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_string("general.architecture", "gptoss");
  EXPECT_EQ(load(w).pre, tokenizer::PreTokenizer::gpt4o);
  w.set_string("general.architecture", "mistral3");
  EXPECT_EQ(load(w).pre, tokenizer::PreTokenizer::tekken);
  w.set_string("general.architecture", "llama");
  try {
    load(w);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'default'"), std::string::npos) << e.what();
  }
}

TEST(VocabLoader, UnigramDefaultsAreT5s) {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "t5");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_string_array("tokenizer.ggml.tokens", {"<pad>", "</s>", "<unk>", "\xE2\x96\x81" "a", "b"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -2});
  w.set_i32_array("tokenizer.ggml.token_type", {3, 3, 2, 1, 1});
  tokenizer::Vocab v = load(w);
  EXPECT_EQ(v.model, tokenizer::VocabModel::ugm);
  EXPECT_EQ(v.pre, tokenizer::PreTokenizer::none);
  EXPECT_EQ(v.eos, 1);
  EXPECT_EQ(v.unk, 2);
  EXPECT_EQ(v.pad, 0);
  EXPECT_EQ(v.bos, kNoToken);
  EXPECT_TRUE(v.add_eos);
  EXPECT_FALSE(v.add_bos);
  EXPECT_FALSE(v.add_space_prefix);
  EXPECT_TRUE(v.precompiled_charsmap.empty());
  w.set_bool("tokenizer.ggml.add_space_prefix", true);
  const tokenizer::Tokenizer tok(load(w));
  // No charsmap: the text is only space-escaped; "c" has no piece and is <unk>.
  EXPECT_EQ(tok.encode("ab c", {.add_special = true}), (std::vector<tokenizer::TokenId>{3, 4, 2, 1}));
}

}  // namespace
}  // namespace hearth::model
