#pragma once
// The plain description of a vocabulary that a Tokenizer is built from. The tokenizer knows
// nothing of GGUF: model/vocab_loader.h fills this from a file's tokenizer.ggml.* keys, and
// tests build small ones by hand.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// GGUF's tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

enum class VocabModel {
  spm,  // tokenizer.ggml.model "llama": SentencePiece BPE with scores and <0xNN> byte fallback
  bpe,  // "gpt2": byte-level BPE with ranked merges
  // "bert": WordPiece as llama.cpp runs it (wpm_encoder.h): the converter stores word-start
  // pieces with a U+2581 prefix and continuation pieces ("##ing") without their "##".
  wpm,
  // "t5": Unigram (T5, XLM-RoBERTa / bge-m3) with SentencePiece's precompiled normalization
  // (ugm_encoder.h).
  ugm,
};

// The split rules applied before byte-level BPE (tokenizer.ggml.pre).
enum class PreTokenizer {
  none,          // SPM vocabularies
  gpt2,          // "gpt-2" and other GPT-2 regex users
  llama3,        // "llama-bpe", "llama3": digits in groups of up to 3
  qwen2,         // "qwen2", "deepseek-r1-qwen": single digits
  deepseek_v3,   // "deepseek-v3": digits, CJK/kana runs, then a punctuation-aware split
  deepseek_llm,  // "deepseek-llm": newlines, cased-letter words, punctuation, CJK, digits
  deepseek_coder,  // "deepseek-coder": newlines, letter words, punctuation, CJK, single digits
  starcoder,     // "starcoder", "smollm", "command-r", ...: single digits, then the GPT-2 split
  tekken,        // "tekken" (Mistral NeMo, Mistral Small 3): case-aware words, single digits
  gpt4o,         // "gpt-4o" (o200k: gpt-oss, Llama 4): case-aware words with contractions, 3 digits
};

// What a tokenizer.ggml.pre name sets, as llama.cpp reads it: the split rules and the two
// vocabulary flags that go with the name rather than with the regex.
struct PreTokenizerSpec {
  PreTokenizer pre = PreTokenizer::gpt2;
  bool ignore_merges = false;  // a pre-token that is itself a token skips the merges
  bool add_bos = false;        // BOS by default (tokenizer.ggml.add_bos_token overrides)
};

// Maps a tokenizer.ggml.pre name; throws Error(unsupported) naming the unknown one.
PreTokenizerSpec pre_tokenizer_spec(std::string_view name);
PreTokenizer pre_tokenizer_from_name(std::string_view name);
const char* pre_tokenizer_name(PreTokenizer pre);

struct Vocab {
  VocabModel model = VocabModel::bpe;
  PreTokenizer pre = PreTokenizer::gpt2;
  std::vector<std::string> tokens;   // id -> text as stored (byte-level or ▁-escaped)
  std::vector<float> scores;         // empty, or one per token (SPM merge priority)
  std::vector<TokenType> types;      // empty (all normal), or one per token
  std::vector<std::string> merges;   // BPE only: "left right", best first
  TokenId bos = kNoToken;
  TokenId eos = kNoToken;
  TokenId eot = kNoToken;
  TokenId eom = kNoToken;
  TokenId pad = kNoToken;
  TokenId unk = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
  // SPM: prepend a space (▁) to text at the start and after each special token, as llama.cpp
  // and SentencePiece's add_dummy_prefix do.
  bool add_space_prefix = false;
  // BPE: a pre-token that is itself a token is emitted whole, skipping merges (Llama 3).
  bool ignore_merges = false;
  // WordPiece's BertNormalizer (tokenizer.ggml.normalizer.lowercase / .strip_accents; accents are
  // stripped by default when lower-casing, as llama.cpp does).
  bool wpm_lowercase = true;
  bool wpm_strip_accents = true;
  // Unigram: SentencePiece's normalization (tokenizer.ggml.precompiled_charsmap, raw bytes; empty
  // for none) and tokenizer.ggml.remove_extra_whitespaces.
  std::string precompiled_charsmap;
  bool remove_extra_whitespaces = false;

  TokenType type(TokenId id) const {
    return types.empty() ? TokenType::normal : types[static_cast<size_t>(id)];
  }
};

}  // namespace hearth::tokenizer
