#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "tokenizer/bpe_encoder.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/special_matcher.h"
#include "tokenizer/spm_encoder.h"
#include "tokenizer/token_index.h"
#include "tokenizer/ugm_encoder.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wpm_encoder.h"
#include "util/error.h"

namespace hearth::tokenizer {
namespace {

constexpr size_t kMaxTextBytes = size_t{1} << 30;
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

enum class PieceKind : uint8_t { text, control, none };

void validate(const Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) throw Error(ErrorCode::corrupt, "vocabulary has no tokens");
  if (n > 0x7FFFFFFF) throw Error(ErrorCode::corrupt, "vocabulary too large");
  if (!v.scores.empty() && v.scores.size() != n) {
    throw Error(ErrorCode::corrupt, "vocabulary has " + std::to_string(v.scores.size()) +
                                        " scores for " + std::to_string(n) + " tokens");
  }
  if (!v.types.empty() && v.types.size() != n) {
    throw Error(ErrorCode::corrupt, "vocabulary has " + std::to_string(v.types.size()) +
                                        " token types for " + std::to_string(n) + " tokens");
  }
  const std::pair<const char*, TokenId> ids[] = {{"bos", v.bos}, {"eos", v.eos}, {"eot", v.eot},
                                                 {"eom", v.eom}, {"pad", v.pad}, {"unk", v.unk}};
  for (const auto& [name, id] : ids) {
    if (id != kNoToken && (id < 0 || static_cast<size_t>(id) >= n)) {
      throw Error(ErrorCode::corrupt, std::string("vocabulary ") + name + " token id " +
                                          std::to_string(id) + " is out of range (" +
                                          std::to_string(n) + " tokens)");
    }
  }
  if (v.add_bos && v.bos == kNoToken) throw Error(ErrorCode::corrupt, "vocabulary adds BOS but has no BOS token");
  if (v.add_eos && v.eos == kNoToken) throw Error(ErrorCode::corrupt, "vocabulary adds EOS but has no EOS token");
  if ((v.model == VocabModel::spm || v.model == VocabModel::ugm) && v.pre != PreTokenizer::none) {
    throw Error(ErrorCode::corrupt, "SentencePiece vocabulary with a BPE pre-tokenizer");
  }
  if (v.model == VocabModel::ugm && v.unk == kNoToken) {
    throw Error(ErrorCode::corrupt, "Unigram vocabulary without an unknown token");
  }
  if (v.model == VocabModel::bpe && v.pre == PreTokenizer::none) {
    throw Error(ErrorCode::corrupt, "byte-level BPE vocabulary without a pre-tokenizer");
  }
}

// <0xNN> -> NN
std::optional<uint8_t> parse_byte_token(std::string_view t) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return std::nullopt;
  const int hi = hex(t[3]), lo = hex(t[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

std::string spm_unescape(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    if (t.substr(i, kSpmSpace.size()) == kSpmSpace) {
      out += ' ';
      i += kSpmSpace.size();
    } else {
      out += t[i++];
    }
  }
  return out;
}

// Texts that end a turn in the vocabularies we know, for models whose GGUF names no eot id.
bool is_end_of_turn_text(std::string_view t) {
  static constexpr std::string_view kTexts[] = {
      "<|eot_id|>",    "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
      "<|eom_id|>",    "<EOT>",      "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};
  return std::find(std::begin(kTexts), std::end(kTexts), t) != std::end(kTexts);
}

}  // namespace

struct Tokenizer::Impl {
  Vocab vocab;
  TokenIndex index;
  std::vector<std::string> pieces;
  std::vector<PieceKind> kinds;
  std::vector<bool> eog;
  std::optional<BpeEncoder> bpe;
  std::optional<SpmEncoder> spm;
  std::optional<WpmEncoder> wpm;
  std::optional<UgmEncoder> ugm;
  std::optional<SpecialMatcher> specials;

  explicit Impl(Vocab v) : vocab(std::move(v)) {
    validate(vocab);
    // A NaN score would break the merge queue's ordering; such a token merges last.
    for (float& s : vocab.scores) {
      if (std::isnan(s)) s = -std::numeric_limits<float>::infinity();
    }
    const size_t n = vocab.tokens.size();
    index.reserve(n);
    for (size_t i = 0; i < n; ++i) index.try_emplace(vocab.tokens[i], static_cast<TokenId>(i));
    pieces.resize(n);
    kinds.resize(n);
    eog.assign(n, false);
    for (size_t i = 0; i < n; ++i) {
      const std::string& t = vocab.tokens[i];
      const TokenType type = vocab.type(static_cast<TokenId>(i));
      switch (type) {
        case TokenType::control:
        case TokenType::unknown:
          pieces[i] = t;
          kinds[i] = PieceKind::control;
          if (type == TokenType::control && is_end_of_turn_text(t)) eog[i] = true;
          break;
        case TokenType::user_defined:
          pieces[i] = t;
          kinds[i] = PieceKind::text;
          break;
        case TokenType::unused:
          kinds[i] = PieceKind::none;
          break;
        case TokenType::byte:
          if (const auto b = parse_byte_token(t)) {
            pieces[i] = std::string(1, static_cast<char>(*b));
          } else {
            pieces[i] = t;
          }
          kinds[i] = PieceKind::text;
          break;
        case TokenType::normal:
        case TokenType::undefined:
        default:
          pieces[i] = vocab.model == VocabModel::bpe ? byte_level_decode(t) : spm_unescape(t);
          kinds[i] = PieceKind::text;
          break;
      }
    }
    for (const TokenId id : {vocab.eos, vocab.eot, vocab.eom}) {
      if (id != kNoToken) eog[static_cast<size_t>(id)] = true;
    }
    // Harmony (gpt-oss, o200k_harmony): a turn's messages end with <|end|> and the next message of
    // the same answer follows (thinking, then the final channel); the answer ends with <|return|>,
    // a tool call with <|call|>. So in a vocabulary with all three, <|end|> does not end the
    // generation (even as the file's eot) and the other two do, as llama.cpp decides.
    const auto harmony = [&](const char* text) {
      const auto it = index.find(text);
      return it != index.end() && vocab.type(it->second) == TokenType::control ? it->second : kNoToken;
    };
    const TokenId h_end = harmony("<|end|>"), h_return = harmony("<|return|>"), h_call = harmony("<|call|>");
    if (h_end != kNoToken && h_return != kNoToken && h_call != kNoToken) {
      eog[static_cast<size_t>(h_end)] = false;
      eog[static_cast<size_t>(h_return)] = true;
      eog[static_cast<size_t>(h_call)] = true;
    }
    if (vocab.model == VocabModel::bpe) {
      bpe.emplace(vocab, index);
    } else if (vocab.model == VocabModel::wpm) {
      wpm.emplace(vocab, index);
    } else if (vocab.model == VocabModel::ugm) {
      ugm.emplace(vocab);
    } else {
      spm.emplace(vocab, index);
    }
    specials.emplace(vocab);
  }

  void encode_text(std::string_view text, bool after_special, std::vector<TokenId>& out) const {
    if (bpe) {
      std::vector<std::string_view> words;
      pre_tokenize(vocab.pre, text, words);
      for (const std::string_view w : words) bpe->encode(w, out);
      return;
    }
    if (wpm) return wpm->encode(text, out);
    // Unigram adds its dummy prefix to every fragment between special tokens itself.
    if (ugm) return ugm->encode(text, out);
    std::string escaped;
    escaped.reserve(text.size() + 8);
    if (vocab.add_space_prefix && after_special) escaped += kSpmSpace;
    for (const char ch : text) {
      if (ch == ' ') {
        escaped += kSpmSpace;
      } else {
        escaped += ch;
      }
    }
    spm->encode(escaped, out);
  }
};

Tokenizer::Tokenizer(Vocab vocab) : impl_(std::make_unique<Impl>(std::move(vocab))) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<TokenId> Tokenizer::encode(std::string_view text, EncodeOptions options) const {
  std::vector<TokenId> out;
  encode(text, options, out);
  return out;
}

void Tokenizer::encode(std::string_view raw, EncodeOptions options, std::vector<TokenId>& out) const {
  const Impl& m = *impl_;
  // Positions inside the encoders are 32-bit.
  if (raw.size() > kMaxTextBytes) {
    throw Error(ErrorCode::invalid_argument, "text to tokenize is " + std::to_string(raw.size()) +
                                                 " bytes; the limit is " + std::to_string(kMaxTextBytes));
  }
  std::string sanitized;
  std::string_view text = raw;
  if (!utf8_is_valid(raw)) {
    sanitized = utf8_sanitize(raw);
    text = sanitized;
  }
  if (options.add_special && m.vocab.add_bos) out.push_back(m.vocab.bos);
  bool after_special = true;  // the start of the text counts as following a special token
  size_t pos = 0;
  while (pos < text.size()) {
    const auto [at, id] = m.specials->find(text, pos, options.parse_special);
    const size_t stop = id == kNoToken ? text.size() : at;
    if (stop > pos) {
      m.encode_text(text.substr(pos, stop - pos), after_special, out);
      after_special = false;
    }
    if (id == kNoToken) break;
    out.push_back(id);
    after_special = true;
    pos = at + m.specials->length(id);
  }
  if (options.add_special && m.vocab.add_eos) out.push_back(m.vocab.eos);
}

std::string_view Tokenizer::piece(TokenId id, bool render_special) const {
  const Impl& m = *impl_;
  if (id < 0 || static_cast<size_t>(id) >= m.pieces.size()) return {};
  const PieceKind kind = m.kinds[static_cast<size_t>(id)];
  if (kind == PieceKind::none || (kind == PieceKind::control && !render_special)) return {};
  return m.pieces[static_cast<size_t>(id)];
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool render_special) const {
  std::string out;
  bool first = true;
  for (const TokenId id : ids) {
    std::string_view p = piece(id, render_special);
    if (p.empty()) continue;
    // The dummy prefix belongs to the first text token, even after a rendered BOS.
    if (first && !is_control(id)) {
      if (impl_->vocab.add_space_prefix && p[0] == ' ') p.remove_prefix(1);
      first = false;
    }
    out += p;
  }
  return utf8_is_valid(out) ? out : utf8_sanitize(out);
}

const Vocab& Tokenizer::vocab() const { return impl_->vocab; }
size_t Tokenizer::n_tokens() const { return impl_->vocab.tokens.size(); }
TokenId Tokenizer::token_id(std::string_view text) const { return find_token(impl_->index, text); }

bool Tokenizer::is_control(TokenId id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->kinds.size() &&
         impl_->kinds[static_cast<size_t>(id)] == PieceKind::control;
}

bool Tokenizer::is_end_of_generation(TokenId id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->eog.size() && impl_->eog[static_cast<size_t>(id)];
}

}  // namespace hearth::tokenizer
