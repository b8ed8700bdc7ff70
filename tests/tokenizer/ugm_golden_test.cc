// The Unigram tokenizer against llama.cpp: goldens/ugm_llamacpp.json holds the ids llama.cpp's
// llama-tokenize gave (goldens/make_ugm_goldens.py) for goldens/ugm_corpus.json on the
// SentencePiece Unigram fixture goldens/ugm_vocab.json (600 pieces, user-defined symbols, and a
// precompiled charsmap that SentencePiece built from a small rule file), under three normalizer
// settings. This test writes the same vocabulary as a GGUF with the project's writer and loads it
// through the vocabulary loader, as a bge-m3 or T5 file would be.

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/vocab_loader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/ugm_encoder.h"
#include "tokenizer_test_util.h"
#include "util/error.h"

namespace hearth::tokenizer::testing {
namespace {

nlohmann::json golden(const std::string& name) {
  return nlohmann::json::parse(read_file(std::string(HEARTH_SOURCE_DIR) + "/tests/tokenizer/goldens/" + name));
}

std::vector<uint8_t> unhex(const std::string& h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

// The fixture as llama.cpp's converter writes an XLM-RoBERTa / T5 vocabulary; `edit` may change
// keys before the bytes are made.
std::vector<uint8_t> fixture_gguf(const std::function<void(gguf::Writer&)>& edit = {}) {
  const auto v = golden("ugm_vocab.json");
  gguf::Writer w;
  w.set_string("general.architecture", "bert");
  w.set_string("tokenizer.ggml.model", "t5");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_string_array("tokenizer.ggml.tokens", v.at("tokens").get<std::vector<std::string>>());
  w.set_f32_array("tokenizer.ggml.scores", v.at("scores").get<std::vector<float>>());
  w.set_i32_array("tokenizer.ggml.token_type", v.at("types").get<std::vector<int32_t>>());
  const std::vector<uint8_t> map = unhex(v.at("charsmap_hex").get<std::string>());
  w.set("tokenizer.ggml.precompiled_charsmap", gguf::Value::numeric_array(gguf::ValueType::UINT8, map, map.size()));
  w.set_bool("tokenizer.ggml.add_space_prefix", v.at("add_space_prefix").get<bool>());
  w.set_bool("tokenizer.ggml.remove_extra_whitespaces", v.at("remove_extra_whitespaces").get<bool>());
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  if (edit) edit(w);
  return w.to_bytes();
}

Tokenizer load(const std::vector<uint8_t>& bytes) {
  return Tokenizer(model::load_vocab(gguf::File::from_memory(bytes.data(), bytes.size(), "ugm.gguf")));
}

TEST(UgmGolden, MatchesLlamaCppInEveryNormalizerSetting) {
  const auto texts = golden("ugm_corpus.json").at("texts").get<std::vector<std::string>>();
  const auto doc = golden("ugm_llamacpp.json");
  ASSERT_EQ(doc.at("settings").size(), 3u);
  for (const auto& setting : doc.at("settings")) {
    const std::string name = setting.at("name");
    const Tokenizer tok = load(fixture_gguf([&](gguf::Writer& w) {
      w.set_bool("tokenizer.ggml.add_space_prefix", setting.at("add_space_prefix").get<bool>());
      w.set_bool("tokenizer.ggml.remove_extra_whitespaces", setting.at("remove_extra_whitespaces").get<bool>());
    }));
    const auto& ids = setting.at("ids");
    ASSERT_EQ(ids.size(), texts.size()) << name;
    size_t failures = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::vector<TokenId> want = ids[i].get<std::vector<TokenId>>();
      const std::vector<TokenId> got = tok.encode(texts[i]);
      if (got != want) ++failures;
      EXPECT_EQ(ids_to_string(got), ids_to_string(want)) << name << ": \"" << texts[i] << "\"";
    }
    EXPECT_EQ(failures, 0u) << name << ": of " << texts.size() << " texts";
  }
}

TEST(Ugm, EmptyTextGivesNoTokensAndEosFollowsByDefault) {
  // Without add_eos_token, llama.cpp's T5 default appends EOS; BOS is never added by default.
  const Tokenizer tok = load(fixture_gguf([](gguf::Writer& w) { w.remove("tokenizer.ggml.bos_token_id"); }));
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_TRUE(tok.encode("   ").empty());  // remove_extra_whitespaces drops them all
  const std::vector<TokenId> ids = tok.encode("hello", {.add_special = true});
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), 2);
  EXPECT_NE(ids.front(), 1);
  EXPECT_EQ(tok.decode(tok.encode("the tokenizer")), "the tokenizer");
}

TEST(Ugm, CharsmapRewritesBeforeSegmenting) {
  const std::vector<uint8_t> bytes = fixture_gguf();
  const Vocab v = model::load_vocab(gguf::File::from_memory(bytes.data(), bytes.size(), "ugm.gguf"));
  const UgmEncoder enc(v);
  // Fullwidth forms, a ligature, a circled number, a composition, a no-break space, a mapping to
  // nothing (U+200B); spaces become U+2581 with one in front of each word.
  EXPECT_EQ(enc.normalize("\xEF\xBC\xA1\xEF\xBD\x82 \xEF\xAC\x81x \xE2\x91\xA0 e\xCC\x81\xC2\xA0z\xE2\x80\x8By"),
            "\xE2\x96\x81" "Ab\xE2\x96\x81" "fix\xE2\x96\x81" "1\xE2\x96\x81\xC3\xA9\xE2\x96\x81zy");
}

TEST(Ugm, MalformedCharsmapIsAClearError) {
  const auto with_map = [](std::vector<uint8_t> map) {
    return fixture_gguf([&](gguf::Writer& w) {
      w.set("tokenizer.ggml.precompiled_charsmap",
            gguf::Value::numeric_array(gguf::ValueType::UINT8, map, map.size()));
    });
  };
  try {
    load(with_map({0xFF, 0xFF, 0, 0, 1, 2}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("precompiled charsmap"), std::string::npos) << e.what();
  }
  // A trie whose root points past its end fails when text reaches it, naming the charsmap.
  const Tokenizer tok = load(with_map({4, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0}));
  try {
    tok.encode("abc");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("precompiled charsmap"), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> wrong_type = fixture_gguf([](gguf::Writer& w) {
    w.set_string("tokenizer.ggml.precompiled_charsmap", "nope");
  });
  try {
    load(wrong_type);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.precompiled_charsmap"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hearth::tokenizer::testing
