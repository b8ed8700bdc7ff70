#include "tokenizer/wpm_encoder.h"

#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wpm_tables.h"

namespace hearth::tokenizer {
namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581

uint32_t to_lower(uint32_t cp) {
  const CodepointPair* end = kLowerPairs + kLowerPairCount;
  const CodepointPair* it =
      std::lower_bound(kLowerPairs, end, cp, [](const CodepointPair& p, uint32_t c) { return p.from < c; });
  return it != end && it->from == cp ? it->to : cp;
}

uint32_t nfd_first(uint32_t cp) {
  const CodepointRange* end = kNfdRanges + kNfdRangeCount;
  const CodepointRange* it =
      std::upper_bound(kNfdRanges, end, cp, [](uint32_t c, const CodepointRange& r) { return c < r.first; });
  if (it == kNfdRanges) return cp;
  --it;
  return cp <= it->last ? it->to : cp;
}

// BERT's _is_chinese_char ranges as llama.cpp has them (its 0x2B920 start, where the Unicode
// block starts at 0x2B820, follows the Hugging Face Rust code).
bool is_chinese_char(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_control(uint32_t cp) {
  switch (general_category(cp)) {
    case GeneralCategory::Cc:
    case GeneralCategory::Cf:
    case GeneralCategory::Co:
    case GeneralCategory::Cs:
      return true;
    default:
      return false;
  }
}

}  // namespace

WpmEncoder::WpmEncoder(const Vocab& vocab, const TokenIndex& index)
    : index_(index), unk_(vocab.unk), lowercase_(vocab.wpm_lowercase), strip_accents_(vocab.wpm_strip_accents) {
  for (const std::string& t : vocab.tokens) max_token_bytes_ = std::max(max_token_bytes_, t.size());
}

std::vector<std::string> WpmEncoder::split_words(std::string_view text, bool lowercase,
                                                 bool strip_accents) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = utf8_decode(text.data() + i, text.size() - i);
    i += c.len;
    const uint32_t cp = strip_accents ? nfd_first(c.cp) : c.cp;
    const uint8_t cls = cp_class(cp);
    if (cls & kSpace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == kReplacementChar || is_control(cp)) continue;
    if (strip_accents && (cls & kMark)) continue;
    std::string s;
    utf8_append(s, lowercase ? to_lower(cp) : cp);
    if ((cls & kPunct) || (cp < 0x7F && (cls & kSymbol)) || is_chinese_char(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

void WpmEncoder::encode_word(const std::string& word, std::vector<TokenId>& out) const {
  const std::string w = std::string(kWordStart) + word;
  const size_t n = w.size(), start = out.size();
  // Cuts are tried at byte offsets, as llama.cpp does; a UTF-8 prefix of a character is never a
  // token, so the longest match is always whole characters.
  for (size_t i = 0; i < n;) {
    bool match = false;
    for (size_t j = std::min(n, i + max_token_bytes_ + 1); j > i; --j) {
      const TokenId id = find_token(index_, std::string_view(w).substr(i, j - i));
      if (id != kNoToken) {
        out.push_back(id);
        i = j;
        match = true;
        break;
      }
    }
    if (!match) {
      out.resize(start);
      break;
    }
  }
  if (out.size() == start && unk_ != kNoToken) out.push_back(unk_);
}

void WpmEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
  for (const std::string& w : split_words(text, lowercase_, strip_accents_)) encode_word(w, out);
}

}  // namespace hearth::tokenizer
