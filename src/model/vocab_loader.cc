#include "model/vocab_loader.h"

#include "util/error.h"
#include "util/log.h"

namespace hearth::model {
namespace {

using tokenizer::kNoToken;
using tokenizer::TokenId;
using tokenizer::TokenType;
using tokenizer::Vocab;

TokenType token_type_from_gguf(int32_t v) {
  if (v >= 0 && v <= 6) return static_cast<TokenType>(v);
  return TokenType::undefined;
}

// An id key, kept only if it names a token; a bad id in a model file is reported, not fatal,
// since the rest of the vocabulary is usable.
TokenId read_id(const gguf::File& f, const char* key, TokenId def, size_t n_tokens) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return def < static_cast<TokenId>(n_tokens) ? def : kNoToken;
  const auto id = v->as_i64();
  if (!id || *id < 0 || static_cast<uint64_t>(*id) >= n_tokens) {
    HEARTH_LOG_WARN(f.path() + ": ignoring " + key + ": not a token id below " + std::to_string(n_tokens));
    return kNoToken;
  }
  return static_cast<TokenId>(*id);
}

// WordPiece (BERT): llama.cpp puts [CLS] (bos) before and [SEP] (seperator, sic) after every
// input it tokenizes with special tokens; older files name the first cls_token_id; failing the
// keys, BERT's own ids (101 [CLS], 102 [SEP], 100 [UNK]) where those tokens are there. The
// normaliser's options are keys too (lowercase, strip_accents).
void load_wordpiece_specials(const gguf::File& f, Vocab& v) {
  const size_t n = v.tokens.size();
  auto named = [&](TokenId id, const char* text) {
    return id >= 0 && static_cast<size_t>(id) < n && v.tokens[static_cast<size_t>(id)] == text ? id : kNoToken;
  };
  if (v.bos == kNoToken) v.bos = read_id(f, "tokenizer.ggml.cls_token_id", named(101, "[CLS]"), n);
  // The closing token is llama.cpp's sep, whatever eos says.
  v.eos = read_id(f, "tokenizer.ggml.seperator_token_id", v.eos != kNoToken ? v.eos : named(102, "[SEP]"), n);
  if (v.unk == kNoToken) v.unk = named(100, "[UNK]");
  if (v.pad == kNoToken) v.pad = read_id(f, "tokenizer.ggml.padding_token_id", kNoToken, n);
  v.add_bos = v.bos != kNoToken;
  v.add_eos = v.eos != kNoToken;
  v.add_space_prefix = true;  // word-start pieces begin with U+2581: decode drops the first space
  v.wpm_lowercase = f.get_bool_or("tokenizer.ggml.normalizer.lowercase", true);
  v.wpm_strip_accents = f.get_bool_or("tokenizer.ggml.normalizer.strip_accents", v.wpm_lowercase);
}

// tokenizer.ggml.pre, or what it means where Ollama's own converter wrote "default" (its name
// for a split regex it does not know) for a family whose tokenizer it knows: gpt-oss blobs
// (architecture "gptoss") split as o200k, and Mistral 3 ones as tekken, which is what Ollama's
// runner and its llama.cpp compatibility layer use for them.
std::string pre_tokenizer_name_of(const gguf::File& f) {
  std::string pre = f.get_string_or("tokenizer.ggml.pre", "");
  if (pre.empty() || pre == "default") {
    const std::string arch = f.get_string_or("general.architecture", "");
    if (arch == "gptoss" || arch == "gpt-oss") return "gpt-4o";
    if (arch == "mistral3") return "tekken";
  }
  return pre;
}

// Unigram's normalization: SentencePiece's precompiled charsmap (an array of bytes, checked by
// the encoder) and whether runs of spaces collapse. The dummy prefix stays off unless
// tokenizer.ggml.add_space_prefix says otherwise, as in llama.cpp.
void load_unigram_normalizer(const gguf::File& f, Vocab& v) {
  constexpr const char* kKey = "tokenizer.ggml.precompiled_charsmap";
  if (const gguf::Value* map = f.find(kKey)) {
    if (!map->is_array() || (map->elem_type() != gguf::ValueType::UINT8 && map->elem_type() != gguf::ValueType::INT8)) {
      throw Error(ErrorCode::corrupt, std::string(kKey) + " is " + map->type_string() + ", not an array of bytes");
    }
    v.precompiled_charsmap.assign(map->raw().begin(), map->raw().end());
  }
  v.remove_extra_whitespaces = f.get_bool_or("tokenizer.ggml.remove_extra_whitespaces", false);
  v.add_space_prefix = false;
}

Vocab load(const gguf::File& f) {
  Vocab v;
  const std::string model = f.get_string("tokenizer.ggml.model");
  if (model == "llama") {
    v.model = tokenizer::VocabModel::spm;
    v.pre = tokenizer::PreTokenizer::none;
  } else if (model == "gpt2") {
    v.model = tokenizer::VocabModel::bpe;
  } else if (model == "bert") {
    v.model = tokenizer::VocabModel::wpm;
    v.pre = tokenizer::PreTokenizer::none;
  } else if (model == "t5") {
    v.model = tokenizer::VocabModel::ugm;
    v.pre = tokenizer::PreTokenizer::none;  // its tokenizer.ggml.pre ("default") names no split
  } else {
    throw Error(ErrorCode::unsupported,
                "unsupported tokenizer model '" + model + "' (supported: llama, gpt2, bert, t5)");
  }

  v.tokens = f.get_string_array("tokenizer.ggml.tokens");
  const size_t n = v.tokens.size();
  if (n == 0) throw Error(ErrorCode::corrupt, "tokenizer.ggml.tokens is empty");
  if (f.find("tokenizer.ggml.scores") != nullptr) {
    v.scores = f.get_f32_array("tokenizer.ggml.scores");
    if (v.scores.size() != n) {
      throw Error(ErrorCode::corrupt, "tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                                          " entries for " + std::to_string(n) + " tokens");
    }
  }
  if (f.find("tokenizer.ggml.token_type") != nullptr) {
    const std::vector<int32_t> types = f.get_i32_array("tokenizer.ggml.token_type");
    if (types.size() != n) {
      throw Error(ErrorCode::corrupt, "tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                                          " entries for " + std::to_string(n) + " tokens");
    }
    v.types.reserve(n);
    for (const int32_t t : types) v.types.push_back(token_type_from_gguf(t));
  }

  bool default_add_bos = false;
  bool default_add_eos = false;
  const bool ugm = v.model == tokenizer::VocabModel::ugm;
  if (ugm) {
    load_unigram_normalizer(f, v);
    default_add_eos = true;  // llama.cpp's T5 default: EOS after the text, no BOS
  } else if (v.model == tokenizer::VocabModel::bpe) {
    v.merges = f.get_string_array("tokenizer.ggml.merges");
    const std::string pre = pre_tokenizer_name_of(f);
    tokenizer::PreTokenizerSpec spec;
    if (pre.empty()) {
      HEARTH_LOG_WARN(f.path() + ": no tokenizer.ggml.pre; splitting text as GPT-2 does");
    } else {
      spec = tokenizer::pre_tokenizer_spec(pre);
    }
    // Some names carry flags (Llama 3 and tekken: ignore_merges, BOS by default).
    v.pre = spec.pre;
    v.ignore_merges = spec.ignore_merges;
    default_add_bos = spec.add_bos;
    v.add_space_prefix = false;
  } else {
    default_add_bos = true;
    v.add_space_prefix = true;
  }
  const bool spm = v.model == tokenizer::VocabModel::spm;
  // SentencePiece ids by default: Llama's <unk> <s> </s>, T5's <pad> </s> <unk>.
  v.bos = read_id(f, "tokenizer.ggml.bos_token_id", spm ? 1 : kNoToken, n);
  v.eos = read_id(f, "tokenizer.ggml.eos_token_id", spm ? 2 : ugm ? 1 : kNoToken, n);
  v.unk = read_id(f, "tokenizer.ggml.unknown_token_id", spm ? 0 : ugm ? 2 : kNoToken, n);
  if (v.model == tokenizer::VocabModel::wpm) load_wordpiece_specials(f, v);
  v.eot = read_id(f, "tokenizer.ggml.eot_token_id", kNoToken, n);
  v.eom = read_id(f, "tokenizer.ggml.eom_token_id", kNoToken, n);
  v.pad = read_id(f, "tokenizer.ggml.padding_token_id", ugm ? 0 : kNoToken, n);
  if (v.model != tokenizer::VocabModel::wpm) {
    v.add_bos = f.get_bool_or("tokenizer.ggml.add_bos_token", default_add_bos);
    v.add_eos = f.get_bool_or("tokenizer.ggml.add_eos_token", default_add_eos);
    v.add_space_prefix = f.get_bool_or("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  }
  if (v.add_bos && v.bos == kNoToken) {
    HEARTH_LOG_WARN(f.path() + ": add_bos_token is set but there is no BOS token; not adding one");
    v.add_bos = false;
  }
  if (v.add_eos && v.eos == kNoToken) {
    HEARTH_LOG_WARN(f.path() + ": add_eos_token is set but there is no EOS token; not adding one");
    v.add_eos = false;
  }
  return v;
}

}  // namespace

tokenizer::Vocab load_vocab(const gguf::File& file) {
  try {
    return load(file);
  } catch (const Error& e) {
    // gguf's own errors already start with the path.
    const std::string msg = e.what();
    const bool has_path = msg.rfind(file.path() + ":", 0) == 0;
    throw Error(e.code(), "loading vocabulary from " + (has_path ? msg : file.path() + ": " + msg));
  }
}

}  // namespace hearth::model
