#pragma once
// random-gguf's encoders (bert, nomic-bert): their keys and tensors the way src/model/bert.cc and
// encoder.cc bind them (LayerNorm weights 1, biases 0, matrices random; with random_affine,
// biases random and LayerNorm weights rising from 1 to 1.5), a made-up WordPiece vocabulary for
// when no --vocab-from is given, and an XLM-RoBERTa (bge-m3) Unigram vocabulary read from a JSON
// file. A header of random_gguf.cc (each tools/*.cc is an executable of its own).

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace random_gguf {

inline bool is_encoder(const std::string& arch) { return arch == "bert" || arch == "nomic-bert"; }

struct EncoderTensor {
  std::string name;
  std::vector<int64_t> ne;
  bool random = true;
  float value = 0.0f;
  bool f32 = false;  // random values stored as F32 (ggml adds token_types only in F32)
  float ramp_to = 0.0f;  // not random: values rising evenly from 1 to this when > 0
};

// n_token_types: rows of token_types.weight (BERT's 2, XLM-RoBERTa's 1). random_affine: every
// bias and LayerNorm bias random (F32), LayerNorm weights rising from 1 to 1.5, so a test on the
// file sees a bias or gain that an implementation drops (zeros and ones would hide it).
inline std::vector<EncoderTensor> encoder_tensors(const std::string& arch, int64_t n_embd,
                                                  int64_t n_layer, int64_t n_ff, int64_t n_ctx,
                                                  int64_t n_vocab, int64_t n_token_types,
                                                  bool random_affine) {
  const bool bert = arch == "bert";
  const int64_t e = n_embd;
  std::vector<EncoderTensor> t;
  auto add_bias = [&](const std::string& name, int64_t n) {
    t.push_back({name + ".bias", {n}, random_affine, 0.0f, true});
  };
  auto norm = [&](const std::string& name) {
    t.push_back({name + ".weight", {e}, false, 1.0f, false, random_affine ? 1.5f : 0.0f});
    add_bias(name, e);
  };
  auto bias = [&](const std::string& name, int64_t n) {
    if (bert) add_bias(name, n);
  };
  t.push_back({"token_embd.weight", {e, n_vocab}});
  t.push_back({"token_types.weight", {e, n_token_types}, true, 0.0f, true});
  if (bert) t.push_back({"position_embd.weight", {e, n_ctx}});
  norm("token_embd_norm");
  for (int64_t il = 0; il < n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    if (bert) {
      for (const char* m : {"attn_q", "attn_k", "attn_v"}) {
        t.push_back({p + m + ".weight", {e, e}});
        bias(p + m, e);
      }
    } else {
      t.push_back({p + "attn_qkv.weight", {e, 3 * e}});
    }
    t.push_back({p + "attn_output.weight", {e, e}});
    bias(p + "attn_output", e);
    norm(p + "attn_output_norm");
    t.push_back({p + "ffn_up.weight", {e, n_ff}});
    bias(p + "ffn_up", n_ff);
    if (!bert) t.push_back({p + "ffn_gate.weight", {e, n_ff}});
    t.push_back({p + "ffn_down.weight", {n_ff, e}});
    bias(p + "ffn_down", e);
    norm(p + "layer_output_norm");
  }
  return t;
}

inline void set_encoder_keys(hearth::gguf::Writer& w, const std::string& a, uint32_t pooling,
                             float norm_eps) {
  w.set_f32(a + ".attention.layer_norm_epsilon", norm_eps);
  w.set_bool(a + ".attention.causal", false);
  w.set_u32(a + ".pooling_type", pooling);
}

// A WordPiece vocabulary as llama.cpp's converter writes BERT's (word starts prefixed with
// U+2581, continuations bare, specials at BERT's ids: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102,
// [MASK] 103): every printable ASCII character and the first CJK ideographs as word starts and
// continuations, then two- and three-letter pieces, up to n_tokens. Returns the token count.
inline int64_t write_wordpiece_vocab(hearth::gguf::Writer& w, int64_t n_tokens) {
  const std::string start = "\xE2\x96\x81";
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int i = 0; i < 104; ++i) {
    const char* named[] = {"[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    tokens.push_back(i == 0 ? "[PAD]" : i >= 100 ? named[i - 100] : "[unused" + std::to_string(i) + "]");
    types.push_back(3);
  }
  auto add = [&](const std::string& s) {
    if (static_cast<int64_t>(tokens.size()) >= n_tokens) return;
    tokens.push_back(s);
    types.push_back(1);
  };
  for (char c = 33; c < 127; ++c) {
    if (c >= 'A' && c <= 'Z') continue;  // the normaliser lower-cases: never looked up
    add(start + c);
    add(std::string(1, c));
  }
  for (uint32_t cp = 0x4E00; cp < 0x4E00 + 512; ++cp) {
    std::string s = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                     static_cast<char>(0x80 | (cp & 0x3F))};
    add(start + s);
  }
  const std::string letters = "etaoinshrdlucmfwypvbgkjqxz";
  for (char a : letters) {
    for (char b : letters) {
      add(start + a + b);
      add(std::string{a, b});
    }
  }
  for (char a : letters) {
    for (char b : letters) {
      for (char c : letters) {
        add(start + a + b + c);
        add(std::string{a, b, c});
      }
    }
  }
  w.set_string("tokenizer.ggml.model", "bert");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.padding_token_id", 0);
  w.set_u32("tokenizer.ggml.unknown_token_id", 100);
  w.set_u32("tokenizer.ggml.bos_token_id", 101);
  w.set_u32("tokenizer.ggml.cls_token_id", 101);
  w.set_u32("tokenizer.ggml.seperator_token_id", 102);
  w.set_u32("tokenizer.ggml.mask_token_id", 103);
  w.set_u32("tokenizer.ggml.token_type_count", 2);  // rows of token_types.weight (llama.cpp checks)
  return static_cast<int64_t>(tokens.size());
}

// An XLM-RoBERTa (bge-m3) Unigram vocabulary as llama.cpp's converter writes one (tokenizer model
// "t5", <s> text </s> around every input, one token type) from a JSON file holding a
// SentencePiece model: "tokens", "scores", "types" (GGUF token types), "charsmap_hex" (the
// precompiled charsmap), "add_space_prefix", "remove_extra_whitespaces" (the format of
// tests/tokenizer/goldens/ugm_vocab.json). <unk>, <s> and </s> are looked up by their text.
// Returns the token count.
inline int64_t write_unigram_vocab(hearth::gguf::Writer& w, const std::string& json_path) {
  using hearth::Error;
  using hearth::ErrorCode;
  std::ifstream in(json_path, std::ios::binary);
  if (!in) throw Error(ErrorCode::not_found, "cannot open " + json_path);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json v;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<uint8_t> charsmap;
  try {
    v = nlohmann::json::parse(text.str());
    tokens = v.at("tokens").get<std::vector<std::string>>();
    scores = v.at("scores").get<std::vector<float>>();
    types = v.at("types").get<std::vector<int32_t>>();
    const std::string hex = v.at("charsmap_hex").get<std::string>();
    if (hex.size() % 2 != 0) throw std::invalid_argument("charsmap_hex has an odd number of digits");
    for (size_t i = 0; i < hex.size(); i += 2) {
      size_t used = 0;
      charsmap.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), &used, 16)));
      if (used != 2) throw std::invalid_argument("charsmap_hex is not hexadecimal at digit " + std::to_string(i));
    }
  } catch (const std::exception& e) {
    throw Error(ErrorCode::invalid_argument, json_path + ": not a Unigram vocabulary: " + e.what());
  }
  if (scores.size() != tokens.size() || types.size() != tokens.size()) {
    throw Error(ErrorCode::invalid_argument, json_path + ": tokens, scores and types differ in length");
  }
  auto id_of = [&](const std::string& piece) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] == piece) return static_cast<uint32_t>(i);
    }
    throw Error(ErrorCode::invalid_argument, json_path + ": no token '" + piece + "'");
  };
  w.set_string("tokenizer.ggml.model", "t5");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set("tokenizer.ggml.precompiled_charsmap",
        hearth::gguf::Value::numeric_array(hearth::gguf::ValueType::UINT8, charsmap, charsmap.size()));
  w.set_bool("tokenizer.ggml.add_space_prefix", v.value("add_space_prefix", true));
  w.set_bool("tokenizer.ggml.remove_extra_whitespaces", v.value("remove_extra_whitespaces", true));
  w.set_u32("tokenizer.ggml.unknown_token_id", id_of("<unk>"));
  w.set_u32("tokenizer.ggml.bos_token_id", id_of("<s>"));
  w.set_u32("tokenizer.ggml.eos_token_id", id_of("</s>"));
  w.set_u32("tokenizer.ggml.cls_token_id", id_of("<s>"));
  w.set_u32("tokenizer.ggml.seperator_token_id", id_of("</s>"));
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", true);
  w.set_u32("tokenizer.ggml.token_type_count", 1);  // rows of token_types.weight (llama.cpp checks)
  return static_cast<int64_t>(tokens.size());
}

}  // namespace random_gguf
