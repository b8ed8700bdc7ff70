#include "tokenizer/ugm_encoder.h"

#include <algorithm>
#include <cfloat>
#include <cstddef>
#include <limits>

#include "tokenizer/utf8.h"
#include "util/error.h"

namespace hearth::tokenizer {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581

// The byte length a UTF-8 lead byte announces; a stray continuation byte counts as one, so a
// corrupt replacement string still advances (llama.cpp's rule).
size_t utf8_len_from_lead(char lead) {
  static constexpr size_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[static_cast<uint8_t>(lead) >> 4];
}

// Calls fn(length, id) for every piece that is a prefix of `s`, shortest first. The pieces are
// sorted, so those sharing s's first k bytes form one range, and the one equal to them heads it.
template <typename PieceVec, typename Fn>
void for_each_piece_prefix(const PieceVec& sorted, std::string_view s, Fn fn) {
  auto lo = sorted.begin();
  auto hi = sorted.end();
  for (size_t k = 0; k < s.size() && lo < hi; ++k) {
    const auto c = static_cast<uint8_t>(s[k]);
    lo = std::partition_point(lo, hi, [&](const auto& p) {
      return p.text.size() <= k || static_cast<uint8_t>(p.text[k]) < c;
    });
    hi = std::partition_point(lo, hi, [&](const auto& p) { return static_cast<uint8_t>(p.text[k]) == c; });
    if (lo < hi && lo->text.size() == k + 1) fn(k + 1, lo->id);
  }
}

// Sorts by text; of tokens with the same text the highest id stays (llama.cpp's trie keeps the
// last one inserted).
template <typename PieceVec>
void sort_unique(PieceVec& pieces) {
  std::stable_sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.text < b.text; });
  PieceVec kept;
  kept.reserve(pieces.size());
  for (const auto& p : pieces) {
    if (!kept.empty() && kept.back().text == p.text) {
      kept.back() = p;
    } else {
      kept.push_back(p);
    }
  }
  pieces.swap(kept);
}

// One node of the XOR-compressed compact double array (Kanda 2018) that SentencePiece's
// precompiled charsmap holds: BASE in bits 10-30 (shifted left by 8 more when bit 9 is set),
// LEAF in bit 8, LCHECK (the byte that leads here) in bits 0-7; a node holding a replacement's
// offset has bit 31 set, so its LCHECK never equals a byte.
struct XcdaNode {
  uint32_t packed;
  uint32_t base() const { return (packed >> 10) << ((packed & (1U << 9)) >> 6); }
  uint32_t lcheck() const { return packed & ((1U << 31) | 0xFF); }
  bool leaf() const { return ((packed >> 8) & 1) != 0; }
  uint32_t value() const { return packed & ((1U << 31) - 1); }
};

}  // namespace

UgmEncoder::UgmEncoder(const Vocab& vocab) : vocab_(vocab) {
  const std::string& map = vocab.precompiled_charsmap;
  if (!map.empty()) {
    if (map.size() < 4) throw Error(ErrorCode::corrupt, "precompiled charsmap is shorter than its 4-byte header");
    const auto* b = reinterpret_cast<const uint8_t*>(map.data());
    const uint64_t blob = uint64_t{b[0]} | uint64_t{b[1]} << 8 | uint64_t{b[2]} << 16 | uint64_t{b[3]} << 24;
    if (blob > map.size() - 4) {
      throw Error(ErrorCode::corrupt, "precompiled charsmap announces a " + std::to_string(blob) +
                                          "-byte trie but holds " + std::to_string(map.size() - 4) + " bytes");
    }
    xcda_.resize(blob / 4);
    for (size_t i = 0; i < xcda_.size(); ++i) {
      const uint8_t* p = b + 4 + 4 * i;
      xcda_[i] = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    }
    replacements_ = std::string_view(map).substr(4 + blob);
  }
  float min_score = FLT_MAX;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const auto id = static_cast<TokenId>(i);
    const TokenType type = vocab.type(id);
    const float score = vocab.scores.empty() ? 0.0f : vocab.scores[i];
    if (type == TokenType::normal) min_score = std::min(min_score, score);
    if (type == TokenType::normal || type == TokenType::user_defined || type == TokenType::unused) {
      pieces_.push_back({vocab.tokens[i], id});
    }
    if (type == TokenType::user_defined) user_defined_.push_back({vocab.tokens[i], id});
  }
  sort_unique(pieces_);
  sort_unique(user_defined_);
  unknown_score_ = static_cast<double>(min_score - 10.0f);
}

size_t UgmEncoder::user_defined_prefix(std::string_view s) const {
  size_t longest = 0;
  for_each_piece_prefix(user_defined_, s, [&](size_t len, TokenId) { longest = len; });
  return longest;
}

std::pair<size_t, std::string_view> UgmEncoder::charsmap_prefix(std::string_view s) const {
  if (xcda_.empty()) return {0, {}};
  auto node = [&](uint32_t i) {
    if (i >= xcda_.size()) {
      throw Error(ErrorCode::corrupt, "precompiled charsmap: trie node " + std::to_string(i) + " is out of range (" +
                                          std::to_string(xcda_.size()) + " nodes)");
    }
    return XcdaNode{xcda_[i]};
  };
  size_t longest = 0;
  uint32_t offset = 0;
  uint32_t at = node(0).base();
  for (size_t k = 0; k < s.size(); ++k) {
    const auto c = static_cast<uint8_t>(s[k]);
    if (c == 0) break;
    at ^= c;
    const XcdaNode n = node(at);
    if (n.lcheck() != c) break;
    at ^= n.base();
    if (n.leaf()) {
      longest = k + 1;
      offset = node(at).value();
    }
  }
  if (longest == 0) return {0, {}};
  if (offset >= replacements_.size()) {
    throw Error(ErrorCode::corrupt, "precompiled charsmap: replacement offset " + std::to_string(offset) +
                                        " is out of range (" + std::to_string(replacements_.size()) + " bytes)");
  }
  const std::string_view rest = replacements_.substr(offset);
  const size_t nul = rest.find('\0');
  if (nul == std::string_view::npos) {
    throw Error(ErrorCode::corrupt, "precompiled charsmap: replacement at " + std::to_string(offset) + " is unterminated");
  }
  return {longest, rest.substr(0, nul)};
}

std::string UgmEncoder::normalize(std::string_view text) const {
  std::string out;
  out.reserve(text.size() * 3);
  // SentencePiece's dummy prefix: one U+2581 before the first non-space; remove_extra_whitespaces
  // drops every space and puts one U+2581 before each run of non-spaces instead.
  const bool merge_spaces = vocab_.remove_extra_whitespaces;
  bool prefix_done = !vocab_.add_space_prefix;
  bool in_word = false;
  size_t at = 0;
  while (at < text.size()) {
    const std::string_view rest = text.substr(at);
    std::string_view replaced;
    size_t consumed = user_defined_prefix(rest);
    if (consumed > 0) {
      replaced = rest.substr(0, consumed);  // user-defined tokens are never normalized
    } else if (const auto [len, repl] = charsmap_prefix(rest); len > 0) {
      consumed = len;
      replaced = repl;
    } else {
      consumed = utf8_decode(rest.data(), rest.size()).len;
      replaced = rest.substr(0, consumed);
    }
    for (const char ch : replaced) {
      if (ch == ' ') {
        in_word = false;
        if (!merge_spaces) out += kSpmSpace;
        continue;
      }
      if (!in_word) {
        in_word = true;
        if (!prefix_done || merge_spaces) out += kSpmSpace;
        prefix_done = true;
      }
      out += ch;
    }
    at += consumed;
  }
  return out;
}

void UgmEncoder::encode(std::string_view text, std::vector<TokenId>& out) const {
  const std::string norm = normalize(text);
  const size_t n = norm.size();
  if (n == 0) return;
  // best[i]: the highest-scoring segmentation of norm[0, i), by its last piece.
  struct Best {
    TokenId id;
    size_t start;
    double score;
  };
  const TokenId unk = vocab_.unk;
  std::vector<Best> best(n + 1, Best{unk, 0, -std::numeric_limits<double>::max()});
  best[0] = Best{unk, 0, 0.0};
  for (size_t at = 0; at < n;) {
    const size_t cp_len = std::min(utf8_len_from_lead(norm[at]), n - at);
    const double base = best[at].score;
    bool whole_code_point = false;
    for_each_piece_prefix(pieces_, std::string_view(norm).substr(at), [&](size_t len, TokenId id) {
      if (len == cp_len) whole_code_point = true;
      // User-defined pieces score 0, above every log-probability, as in llama.cpp.
      const double score = vocab_.type(id) == TokenType::user_defined || vocab_.scores.empty()
                               ? 0.0
                               : static_cast<double>(vocab_.scores[static_cast<size_t>(id)]);
      Best& champ = best[at + len];
      if (base + score > champ.score) champ = Best{id, at, base + score};
    });
    if (!whole_code_point) {
      Best& champ = best[at + cp_len];
      if (base + unknown_score_ > champ.score) champ = Best{unk, at, base + unknown_score_};
    }
    at += cp_len;
  }
  const size_t first = out.size();
  bool prev_unknown = false;
  for (size_t end = n;;) {
    const Best& b = best[end];
    const bool unknown = b.id == unk;
    if (!(prev_unknown && unknown)) out.push_back(b.id);
    if (b.start == 0) break;
    prev_unknown = unknown;
    end = b.start;
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
}

}  // namespace hearth::tokenizer
